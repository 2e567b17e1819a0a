// Package ynode builds YAML nodes for the objects and files peruser writes. One place
// decides how a string scalar is written, so that every reader reads back what was
// meant: kyaml writes YAML 1.2, but kubectl, Helm and most tools still read YAML 1.1,
// where a plain yes, no, on, off, y or n is a boolean and 1:20 a number. It also holds
// the one rule for reading a node peruser did not write (Readable).
package ynode

import (
	"regexp"
	"strconv"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Str is a string scalar, double-quoted when a YAML 1.1 reader would take it for
// something else. (The YAML 1.2 encoder already quotes what YAML 1.2 would misread,
// such as "20001" or "true".)
func Str(v string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagString, Value: v}
	if yaml11NonString(v) {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// Int is an integer scalar.
func Int(v int64) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagInt, Value: strconv.FormatInt(v, 10)}
}

// Bool is a boolean scalar.
func Bool(v bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: yaml.NodeTagBool, Value: strconv.FormatBool(v)}
}

// Seq is a sequence of items.
func Seq(items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: yaml.NodeTagSeq, Content: items}
}

// Map is a mapping of alternating key and value nodes, in the given order.
func Map(kv ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap, Content: kv}
}

// yaml11Bools are the plain scalars YAML 1.1 reads as booleans and YAML 1.2 as strings.
var yaml11Bools = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true,
	"n": true, "N": true, "no": true, "No": true, "NO": true,
	"on": true, "On": true, "ON": true, "off": true, "Off": true, "OFF": true,
}

// base60 is YAML 1.1's sexagesimal number (1:20, 190:20:30.15).
var base60 = regexp.MustCompile(`^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$`)

// yaml11NonString is a cheap test, run on every string written: a map lookup, and the
// regular expression only for the rare value that starts with a digit and holds ':'.
func yaml11NonString(v string) bool {
	if len(v) <= 3 && yaml11Bools[v] {
		return true
	}
	if len(v) > 2 && (v[0] >= '0' && v[0] <= '9' || v[0] == '-' || v[0] == '+') {
		for i := 1; i < len(v); i++ {
			if v[i] == ':' {
				return base60.MatchString(v)
			}
		}
	}
	return false
}

// Readable reports whether kyaml's object getters (GetName, GetNamespace,
// GetAnnotations, GetLabels, kioutil.GetFileAnnotations, …) can be called on n without
// a panic. They read a node's content as key/value pairs, and index past the end of a
// sequence with an odd number of items, so n must be a mapping, and so must its
// metadata and metadata's annotations and labels wherever they are set. (GetApiVersion
// and GetKind need only n to be a mapping.) A functionConfig or an item of a
// ResourceList is checked with it before any of those getters reads it.
func Readable(n *yaml.RNode) bool {
	if n == nil || n.YNode() == nil || n.YNode().Kind != yaml.MappingNode {
		return false
	}
	meta := field(n.YNode(), yaml.MetadataField)
	if meta == nil {
		return true
	}
	if meta.Kind != yaml.MappingNode {
		return false
	}
	for _, name := range []string{yaml.AnnotationsField, yaml.LabelsField} {
		if m := field(meta, name); m != nil && m.Kind != yaml.MappingNode {
			return false
		}
	}
	return true
}

// field is the value of the key name in the mapping m, nil when it is not set (absent,
// null or empty: what kyaml's getters skip).
func field(m *yaml.Node, name string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == name {
			if v := m.Content[i+1]; !yaml.IsYNodeNilOrEmpty(v) {
				return v
			}
			return nil
		}
	}
	return nil
}
