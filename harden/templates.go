package harden

import (
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/field"
)

// builtin says where the pod template of each workload kind of the core API lives.
// A nil path means the object is itself the template (a Pod has metadata and spec).
var builtin = map[string]struct {
	groups []string
	path   []string
}{
	"Pod":                   {[]string{""}, nil},
	"PodTemplate":           {[]string{""}, []string{"template"}},
	"ReplicationController": {[]string{""}, []string{"spec", "template"}},
	"ReplicaSet":            {[]string{"apps", "extensions"}, []string{"spec", "template"}},
	"Deployment":            {[]string{"apps", "extensions"}, []string{"spec", "template"}},
	"StatefulSet":           {[]string{"apps"}, []string{"spec", "template"}},
	"DaemonSet":             {[]string{"apps", "extensions"}, []string{"spec", "template"}},
	"Job":                   {[]string{"batch"}, []string{"spec", "template"}},
	"CronJob":               {[]string{"batch"}, []string{"spec", "jobTemplate", "spec", "template"}},
}

// conventionalPaths are where custom resources conventionally keep a pod template:
// Argo Rollouts, OpenKruise CloneSet and most operators use spec.template; CronJob-like
// resources use spec.jobTemplate.spec.template. A custom resource is hardened at such a
// path only when the value there has the shape of a pod template (spec.containers is a
// list), so unrelated "template" fields are left alone.
var conventionalPaths = [][]string{
	{"spec", "template"},
	{"spec", "jobTemplate", "spec", "template"},
}

// podTemplate is one place in an object that holds a pod: a mapping with metadata and spec.
type podTemplate struct {
	node *yaml.Node
	path field.Path // "" when the object itself is the pod
}

func (t podTemplate) at(child string) field.Path { return t.path.Child(child) }

// apiGroup returns the group of an apiVersion: "apps/v1" → "apps", "v1" → "".
func apiGroup(apiVersion string) string {
	if g, _, ok := strings.Cut(apiVersion, "/"); ok {
		return g
	}
	return ""
}

// templatesOf finds the pod templates of one object (not a List).
func (h *Hardener) templatesOf(obj *yaml.Node, base field.Path) []podTemplate {
	kind, group := str(lookup(obj, "kind")), apiGroup(str(lookup(obj, "apiVersion")))
	if kind == "CustomResourceDefinition" {
		// A CRD's schema may describe containers; it is never a workload.
		return nil
	}
	var out []podTemplate
	seen := map[*yaml.Node]bool{}
	add := func(n *yaml.Node, p field.Path) {
		if isMap(n) && !seen[n] {
			seen[n] = true
			out = append(out, podTemplate{node: n, path: p})
		}
	}
	if b, ok := builtin[kind]; ok && slices.Contains(b.groups, group) {
		if b.path == nil {
			add(obj, base)
		} else if n, p := walk(obj, base, b.path); n != nil {
			add(n, p)
		}
	} else {
		for _, cp := range conventionalPaths {
			if n, p := walk(obj, base, cp); looksLikePodTemplate(n) {
				add(n, p)
			}
		}
	}
	for _, tp := range h.templatePaths {
		if tp.kind != kind || tp.group != "" && tp.group != group {
			continue
		}
		matchPath(obj, base, tp.segments, func(n *yaml.Node, p field.Path) {
			if looksLikePodTemplate(n) {
				add(n, p)
			}
		})
	}
	return out
}

// looksLikePodTemplate reports a mapping whose spec holds a list of containers.
func looksLikePodTemplate(n *yaml.Node) bool {
	return isMap(n) && isSeq(lookup(lookup(n, "spec"), "containers"))
}

// walk follows a fixed path of mapping keys.
func walk(n *yaml.Node, p field.Path, keys []string) (*yaml.Node, field.Path) {
	for _, k := range keys {
		n = lookup(n, k)
		if n == nil {
			return nil, p
		}
		p = p.Child(k)
	}
	return n, p
}

// matchPath calls fn for every node reached by segments, where "*" is every key of a
// mapping or every item of a list.
func matchPath(n *yaml.Node, p field.Path, segs []string, fn func(*yaml.Node, field.Path)) {
	if n == nil {
		return
	}
	if len(segs) == 0 {
		fn(n, p)
		return
	}
	seg, rest := segs[0], segs[1:]
	if seg != "*" {
		matchPath(lookup(n, seg), p.Key(seg), rest, fn)
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			matchPath(n.Content[i+1], p.Key(n.Content[i].Value), rest, fn)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			matchPath(c, p.Index(i), rest, fn)
		}
	}
}

type templatePath struct {
	group, kind string
	segments    []string
}
