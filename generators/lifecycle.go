package generators

// Annotations that keep GitOps engines from pruning an object when it disappears from
// the rendered output. peruser puts them on the objects that hold user data (the
// Namespace, the PersistentVolumeClaim and the PersistentVolume), so that removing a
// user from the spec or the directory revokes their access at the next sync (their
// RoleBindings are pruned) but never deletes their data. docs/generators.md has the
// offboarding procedure.
const (
	// AnnotationArgoSyncOptions with ArgoKeep: Argo CD neither prunes the object when it
	// leaves the render (Prune=false) nor deletes it when the Application itself is
	// deleted with its finalizer (Delete=false), which Prune=false alone does not stop.
	AnnotationArgoSyncOptions = "argocd.argoproj.io/sync-options"
	ArgoKeep                  = "Prune=false,Delete=false"
	// AnnotationArgoCompareOptions with ArgoIgnoreExtraneous: once a user has left, their
	// kept Namespace, claim and volume are extraneous to the Application; without this
	// it would stay OutOfSync for ever.
	AnnotationArgoCompareOptions = "argocd.argoproj.io/compare-options"
	ArgoIgnoreExtraneous         = "IgnoreExtraneous"
	// AnnotationFluxPrune with FluxPruneDisabled: Flux's kustomize-controller skips the
	// object when it garbage-collects.
	AnnotationFluxPrune = "kustomize.toolkit.fluxcd.io/prune"
	FluxPruneDisabled   = "disabled"
)

// protectData adds the prune-protection annotations to annotations (which may be nil)
// unless the site turned protection off, and returns the map.
func (g *generator) protectData(annotations map[string]string) map[string]string {
	if !g.site.Spec.Lifecycle.PruneProtected() {
		return annotations
	}
	if annotations == nil {
		annotations = make(map[string]string, 3)
	}
	annotations[AnnotationArgoSyncOptions] = ArgoKeep
	annotations[AnnotationArgoCompareOptions] = ArgoIgnoreExtraneous
	annotations[AnnotationFluxPrune] = FluxPruneDisabled
	return annotations
}
