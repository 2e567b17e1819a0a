package generators

import (
	"fmt"
	"sort"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/internal/ynode"
)

// The helpers below build YAML nodes directly: it is several times faster than going
// through typed structs and JSON, and it fixes the field order of the output.

// Scalars and sequences come from package ynode, which decides how strings are quoted.
func str(v string) *yaml.Node            { return ynode.Str(v) }
func integer(v int64) *yaml.Node         { return ynode.Int(v) }
func boolean(v bool) *yaml.Node          { return ynode.Bool(v) }
func seq(items ...*yaml.Node) *yaml.Node { return ynode.Seq(items...) }

// mapping builds a mapping from key/value pairs in the given order. Values may be
// *yaml.Node, string, int, int64, bool, []string or map[string]string (keys sorted).
// A nil *yaml.Node value drops the pair, which keeps optional fields terse.
func mapping(kv ...any) *yaml.Node {
	if len(kv)%2 != 0 {
		panic("mapping: odd number of arguments")
	}
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap, Content: make([]*yaml.Node, 0, len(kv))}
	for i := 0; i < len(kv); i += 2 {
		v := value(kv[i+1])
		if v == nil {
			continue
		}
		n.Content = append(n.Content, str(kv[i].(string)), v)
	}
	return n
}

func value(v any) *yaml.Node {
	switch v := v.(type) {
	case *yaml.Node:
		return v
	case string:
		return str(v)
	case int:
		return integer(int64(v))
	case int64:
		return integer(v)
	case bool:
		return boolean(v)
	case []string:
		items := make([]*yaml.Node, len(v))
		for i, s := range v {
			items[i] = str(s)
		}
		return seq(items...)
	case map[string]string:
		return stringMap(v)
	}
	panic(fmt.Sprintf("mapping: unsupported value type %T", v))
}

// stringMap is a mapping with sorted keys, the order the apiserver returns.
func stringMap(m map[string]string) *yaml.Node {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap, Content: make([]*yaml.Node, 0, 2*len(keys))}
	for _, k := range keys {
		n.Content = append(n.Content, str(k), str(m[k]))
	}
	return n
}

// emptyMap is `{}`, e.g. podSelector: {} — what the apiserver stores for "all pods".
func emptyMap() *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Tag: yaml.NodeTagMap, Style: yaml.FlowStyle}
}

// object builds apiVersion, kind and metadata; body follows as further pairs.
func object(apiVersion, kind string, meta *yaml.Node, body ...any) *yaml.Node {
	kv := append([]any{"apiVersion", apiVersion, "kind", kind, "metadata", meta}, body...)
	return mapping(kv...)
}

// meta builds metadata. namespace "" is omitted (cluster-scoped objects); nil or empty
// label and annotation maps are omitted.
func meta(name, namespace string, labels, annotations map[string]string) *yaml.Node {
	kv := []any{"name", name}
	if namespace != "" {
		kv = append(kv, "namespace", namespace)
	}
	if len(labels) > 0 {
		kv = append(kv, "labels", labels)
	}
	if len(annotations) > 0 {
		kv = append(kv, "annotations", annotations)
	}
	return mapping(kv...)
}
