package generators

import (
	"strconv"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/identity"
)

// Pod Security Admission label keys.
const psaPrefix = "pod-security.kubernetes.io/"

// namespace is the user's Namespace: the site's labels and annotations, the managed
// labels, the Pod Security Admission level, and the user's identity as annotations
// (the admission policy compares pods against them).
func (g *generator) namespace(u identity.User, labels map[string]string) *yaml.Node {
	ns := g.site.Spec.Namespace
	all := make(map[string]string, len(ns.Labels)+len(labels)+4)
	for k, v := range ns.Labels {
		all[k] = v
	}
	for k, v := range labels {
		all[k] = v
	}
	// The apiserver adds this label itself; writing it keeps a re-apply a no-op and
	// lets NetworkPolicies select the namespace before it exists.
	all["kubernetes.io/metadata.name"] = u.Namespace
	if level := g.podSecurityLevel(); level != "" { // podrestrictions.go
		for _, mode := range []string{"enforce", "audit", "warn"} {
			all[psaPrefix+mode] = level
		}
	}
	annotations := make(map[string]string, len(ns.Annotations)+4)
	for k, v := range ns.Annotations {
		annotations[k] = v
	}
	annotations[AnnotationUsername] = u.Name
	annotations[AnnotationUID] = strconv.FormatInt(u.UID, 10)
	annotations[AnnotationGID] = strconv.FormatInt(u.GID, 10)
	annotations[AnnotationSupplementalGIDs] = formatGIDs(u.SupplementalGIDs())
	g.mountAnnotation(u, annotations)        // podrestrictions.go
	annotations = g.protectData(annotations) // lifecycle.go: never pruned by GitOps
	return object("v1", "Namespace", meta(u.Namespace, "", all, annotations))
}
