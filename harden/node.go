package harden

import (
	"path"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/internal/ynode"
)

// Helpers over yaml.v3 nodes (as re-exported by kyaml). The hardening code edits the
// parsed tree in place so that comments, key order and styles of everything it does
// not touch survive re-serialization. Every scalar it writes is built by package
// ynode, which quotes what a YAML 1.1 reader (kubectl, Helm) would misread.

// lookup returns the value stored under key in mapping m, or nil.
func lookup(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// set stores v under key in mapping m, replacing an existing value in place so the key
// keeps its position and comments, or appending a new pair.
func set(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			m.Content[i+1] = v
			return
		}
	}
	blockStyle(m)
	m.Content = append(m.Content, ynode.Str(key), v)
}

// remove deletes key from mapping m and reports whether it was there.
func remove(m *yaml.Node, key string) bool {
	if m == nil || m.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return true
		}
	}
	return false
}

// blockStyle turns a flow mapping such as Helm's `securityContext: {}` into a block one
// before keys are added, so the hardened output reads like the rest of the manifest.
// removeUnless removes key from m unless it holds the integer want; it reports whether
// anything was removed. A value that is not an integer is removed too.
func removeUnless(m *yaml.Node, key string, want int64) bool {
	n := lookup(m, key)
	if n == nil {
		return false
	}
	if v, ok := intValue(n); ok && v == want {
		return false
	}
	return remove(m, key)
}

// asDirectory is p cleaned and ending in "/", so that prefixes compare directories:
// /users must not allow /users-archive.
func asDirectory(p string) string { return strings.TrimSuffix(path.Clean(p), "/") + "/" }

func blockStyle(m *yaml.Node) {
	m.Style &^= yaml.FlowStyle
}

func isMap(n *yaml.Node) bool { return n != nil && n.Kind == yaml.MappingNode }
func isSeq(n *yaml.Node) bool { return n != nil && n.Kind == yaml.SequenceNode }

// isNull reports a missing value or an explicit null (`key:`, `key: null`, `key: ~`).
func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// str returns the string form of a scalar ("" for anything else).
func str(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return ""
	}
	return n.Value
}

// isTrue reports a boolean true scalar.
func isTrue(n *yaml.Node) bool { return isBool(n, true) }

// isBool reports a boolean scalar equal to want.
func isBool(n *yaml.Node, want bool) bool {
	return n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" && strings.EqualFold(n.Value, strconv.FormatBool(want))
}

// intValue returns the integer held by a scalar.
func intValue(n *yaml.Node) (int64, bool) {
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
	return v, err == nil
}

// setInt forces key to v and reports whether that changed anything.
func setInt(m *yaml.Node, key string, v int64) bool {
	if got, ok := intValue(lookup(m, key)); ok && got == v {
		return false
	}
	set(m, key, ynode.Int(v))
	return true
}

// setBool forces key to v and reports whether that changed anything.
func setBool(m *yaml.Node, key string, v bool) bool {
	if isBool(lookup(m, key), v) {
		return false
	}
	set(m, key, ynode.Bool(v))
	return true
}

// setStr forces key to v and reports whether that changed anything.
func setStr(m *yaml.Node, key, v string) bool {
	if n := lookup(m, key); n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" && n.Value == v {
		return false
	}
	set(m, key, ynode.Str(v))
	return true
}

// hasAliases reports whether the tree holds aliases or merge keys, which hardening must
// expand first: editing through an alias would edit every place that shares it.
func hasAliases(n *yaml.Node) bool {
	if n == nil {
		return false
	}
	if n.Kind == yaml.AliasNode || n.Kind == yaml.ScalarNode && n.Tag == "!!merge" {
		return true
	}
	for _, c := range n.Content {
		if hasAliases(c) {
			return true
		}
	}
	return false
}

// expandAliases replaces every alias below n by a copy of what it points to and folds
// merge keys (`<<: *base`) into their mapping, explicit keys winning, as YAML defines.
// budget caps the number of nodes copied, so that an alias bomb ("billion laughs") is an
// error rather than an out-of-memory crash.
func expandAliases(n *yaml.Node, budget *int) (*yaml.Node, bool) {
	if n == nil {
		return n, true
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return n, true
		}
		c, ok := deepCopy(n.Alias, budget)
		if !ok {
			return n, false
		}
		c.Anchor = ""
		return expandAliases(c, budget)
	}
	for i, c := range n.Content {
		e, ok := expandAliases(c, budget)
		if !ok {
			return n, false
		}
		n.Content[i] = e
	}
	if n.Kind == yaml.MappingNode {
		foldMerges(n)
	}
	return n, true
}

// countNodes counts the nodes of a tree, not following aliases.
func countNodes(n *yaml.Node) int {
	c := 1
	for _, x := range n.Content {
		c += countNodes(x)
	}
	return c
}

// clearAnchors removes anchor names below n. After expansion nothing refers to them, and
// copies of an anchored node would otherwise define the same anchor twice.
func clearAnchors(n *yaml.Node) {
	n.Anchor = ""
	for _, c := range n.Content {
		clearAnchors(c)
	}
}

func foldMerges(m *yaml.Node) {
	hasMerge := false
	for i := 0; i+1 < len(m.Content); i += 2 {
		if isMergeKey(m.Content[i]) {
			hasMerge = true
		}
	}
	if !hasMerge {
		return
	}
	explicit := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if !isMergeKey(m.Content[i]) {
			explicit[m.Content[i].Value] = true
		}
	}
	var out []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if !isMergeKey(k) {
			out = append(out, k, v)
			continue
		}
		sources := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			sources = v.Content
		}
		for _, s := range sources {
			if s.Kind != yaml.MappingNode {
				continue
			}
			for j := 0; j+1 < len(s.Content); j += 2 {
				if key := s.Content[j].Value; !explicit[key] {
					explicit[key] = true // earlier merge sources win over later ones
					out = append(out, s.Content[j], s.Content[j+1])
				}
			}
		}
	}
	m.Content = out
}

func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "!!merge" || k.Tag == "")
}

func deepCopy(n *yaml.Node, budget *int) (*yaml.Node, bool) {
	*budget--
	if *budget < 0 {
		return n, false
	}
	c := *n
	if n.Content != nil {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, x := range n.Content {
			var ok bool
			if c.Content[i], ok = deepCopy(x, budget); !ok {
				return n, false
			}
		}
	}
	return &c, true
}
