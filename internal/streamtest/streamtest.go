// Package streamtest compares YAML streams object by object in tests: a render's
// objects against another's, whatever order or part they were written in. It is apart
// from internal/testenv so that test binaries which only find tools and build binaries
// do not link kyaml.
package streamtest

import (
	"encoding/json"
	"iter"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Objects splits a YAML stream into its objects, each as its text in the stream,
// keyed by kind/namespace/name; an object that appears twice fails the test. Tests
// compare renders object by object with it (a shard's objects against the whole
// site's). Each document is parsed for its key but not written again: two renders by
// the same writer compare as text.
func Objects(t testing.TB, stream []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	for doc := range documents(stream) {
		var head struct {
			Kind     string `yaml:"kind"`
			Metadata struct {
				Name      string `yaml:"name"`
				Namespace string `yaml:"namespace"`
			} `yaml:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatalf("reading a YAML stream: %v\n%s", err, doc)
		}
		key := head.Kind + "/" + head.Metadata.Namespace + "/" + head.Metadata.Name
		if _, dup := out[key]; dup {
			t.Fatalf("%s twice in one stream", key)
		}
		out[key] = doc
	}
	return out
}

// documents yields the non-empty documents of a YAML stream: the text between lines
// that are a document marker ("---", as kyaml and kustomize write them).
func documents(stream []byte) iter.Seq[string] {
	return func(yield func(string) bool) {
		var doc strings.Builder
		flush := func() bool {
			s := doc.String()
			doc.Reset()
			return strings.TrimSpace(s) == "" || yield(s)
		}
		for line := range strings.Lines(string(stream)) {
			if strings.TrimRight(line, "\r\n") == "---" {
				if !flush() {
					return
				}
				continue
			}
			doc.WriteString(line)
		}
		flush()
	}
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
