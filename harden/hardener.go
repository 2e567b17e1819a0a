package harden

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/internal/podrules"
)

// Hardener applies one Hardening spec for one identity. Build it once with New and
// reuse it: it holds the compiled Pod Security evaluator.
type Hardener struct {
	spec             v1alpha1.HardeningSpec
	id               Identity
	supplemental     []int64
	rewrite          rewriter
	templatePaths    []templatePath
	hostPathPrefixes []string
	volumeTypes      map[string]bool
	labelKeys        []string
	evaluator        policy.Evaluator
}

// New validates spec (v1alpha1.HardeningSpec.Validate, the one check of every value)
// and prepares a Hardener that runs pods as id. A front-end resolves the spec's
// identity into id (ExplicitIdentity, or a user of a Site). An explicit identity in
// the spec is checked as given, so system groups in it are refused; otherwise id is
// checked, with the system groups a Site gives a user dropped. Invalid settings are a
// field.List with the spec's paths (spec.lifetime).
func New(spec v1alpha1.HardeningSpec, id Identity) (*Hardener, error) {
	check := spec
	if !spec.Identity.Explicit() {
		check.Identity = id.asSpec()
	}
	if errs := check.Validate(field.Path("spec")); len(errs) > 0 {
		return nil, errs
	}
	h := &Hardener{
		spec:         spec, // what to add and allow; pods run as id, never as spec.Identity
		id:           id,
		supplemental: id.normalizedSupplementalGroups(),
		rewrite:      newRewriter(spec.RegistryRewrites),
		volumeTypes:  map[string]bool{},
		labelKeys:    slices.Sorted(maps.Keys(spec.Labels)),
	}
	for _, t := range spec.PodTemplatePaths {
		segs, _ := podrules.ParseTemplatePath(t.Path) // checked by Validate
		h.templatePaths = append(h.templatePaths, templatePath{group: t.Group, kind: t.Kind, segments: segs})
	}
	for _, p := range spec.Exceptions.HostPathPrefixes {
		// Compare directories, not strings: /users must not allow /users-archive.
		h.hostPathPrefixes = append(h.hostPathPrefixes, asDirectory(p))
	}
	for _, t := range spec.Exceptions.VolumeTypes {
		h.volumeTypes[t] = true
	}
	if spec.VerifyEnabled() {
		ev, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
		if err != nil {
			return nil, fmt.Errorf("building the Pod Security evaluator: %w", err)
		}
		h.evaluator = ev
	}
	return h, nil
}

// Object hardens one parsed object in place: a workload, a custom resource holding a pod
// template, or a List of them. Objects without a pod template are left as they are.
// changed reports whether anything was written; errs name the object and field.
func (h *Hardener) Object(obj *yaml.Node) (changed bool, errs Errors) {
	if obj != nil && obj.Kind == yaml.DocumentNode && len(obj.Content) == 1 {
		obj = obj.Content[0]
	}
	if !isMap(obj) {
		return false, nil
	}
	if hasAliases(obj) && h.hasTemplates(obj) {
		// Editing through an alias would also edit whatever else shares the anchor, in
		// this object or, in a List, in another item: expand them for the whole document.
		// A few anchors in a chart expand to a little more YAML; an alias bomb expands
		// exponentially. Allow growth to four times the document (at least 10,000 nodes).
		budget := max(10000, 4*countNodes(obj))
		if _, ok := expandAliases(obj, &budget); !ok {
			return false, Errors{h.docError(obj, field.List{field.Errorf("", "YAML aliases expand to more than four times the document; write the pod template out")})}
		}
		clearAnchors(obj)
	}
	return h.object(obj, "")
}

// hasTemplates reports whether obj, or an item of a List, holds a pod template.
func (h *Hardener) hasTemplates(obj *yaml.Node) bool {
	if items := lookup(obj, "items"); isSeq(items) && strings.HasSuffix(str(lookup(obj, "kind")), "List") {
		for _, item := range items.Content {
			if isMap(item) && h.hasTemplates(item) {
				return true
			}
		}
		return false
	}
	return len(h.templatesOf(obj, "")) > 0
}

func (h *Hardener) object(obj *yaml.Node, base field.Path) (changed bool, errs Errors) {
	kind := str(lookup(obj, "kind"))
	if items := lookup(obj, "items"); isSeq(items) && strings.HasSuffix(kind, "List") {
		// kind: List (and typed lists such as DeploymentList) hold whole objects.
		for i, item := range items.Content {
			if !isMap(item) {
				continue
			}
			c, e := h.object(item, base.Child("items").Index(i))
			changed = changed || c
			errs = append(errs, e...)
		}
		return changed, errs
	}
	templates := h.templatesOf(obj, base)
	if len(templates) == 0 {
		return false, nil
	}
	var ferrs field.List
	for _, t := range templates {
		c, e := h.template(t, obj, base)
		changed = changed || c
		ferrs = append(ferrs, e...)
	}
	if len(ferrs) > 0 {
		errs = append(errs, h.docError(obj, ferrs))
	}
	return changed, errs
}

func (h *Hardener) docError(obj *yaml.Node, errs field.List) *DocumentError {
	md := lookup(obj, "metadata")
	return &DocumentError{Kind: str(lookup(obj, "kind")), Name: str(lookup(md, "name")), Errs: errs}
}
