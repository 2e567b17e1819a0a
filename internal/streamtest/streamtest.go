// Package streamtest compares YAML streams object by object in tests: a render's
// objects against another's, whatever order or part they were written in. It is apart
// from internal/testenv so that test binaries which only find tools and build binaries
// do not link kyaml.
package streamtest

import (
	"bytes"
	"encoding/json"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Objects splits a YAML stream into its objects, each as the bytes kyaml writes it,
// keyed by kind/namespace/name; an object that appears twice fails the test. Tests
// compare renders object by object with it (a shard's objects against the whole site's).
func Objects(t testing.TB, stream []byte) map[string]string {
	t.Helper()
	nodes, err := (&kio.ByteReader{Reader: bytes.NewReader(stream), OmitReaderAnnotations: true}).Read()
	if err != nil {
		t.Fatalf("reading a YAML stream: %v", err)
	}
	out := make(map[string]string, len(nodes))
	for _, n := range nodes {
		key := n.GetKind() + "/" + n.GetNamespace() + "/" + n.GetName()
		if _, dup := out[key]; dup {
			t.Fatalf("%s twice in one stream", key)
		}
		s, err := n.String()
		if err != nil {
			t.Fatal(err)
		}
		out[key] = s
	}
	return out
}

// Canonical is Objects with each object as sorted JSON, for comparing renders whose
// writers order fields differently (kustomize moves metadata.name after labels).
func Canonical(t testing.TB, stream []byte) map[string]string {
	t.Helper()
	out := Objects(t, stream)
	for k, v := range out {
		var m any
		if err := yaml.Unmarshal([]byte(v), &m); err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = string(b)
	}
	return out
}
