package ynode

import (
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	// Defines -update, so that `go test ./... -update` runs in every package.
	_ "github.com/peruser-dev/peruser/internal/golden"
)

// TestStrReadsBackAsString writes each value as a string scalar and reads it back with
// a YAML 1.1 reader (sigs.k8s.io/yaml, as kubectl does): it must still be that string.
func TestStrReadsBackAsString(t *testing.T) {
	for _, v := range []string{"yes", "no", "on", "OFF", "y", "N", "1:20", "190:20:30.15",
		"20001", "true", "null", "~", "0777", "1e3", "oakley", "jane.doe", "sam@example.edu", "", "a: b", "- x", "12:ab"} {
		out, err := yaml.NewRNode(Map(Str("k"), Str(v))).String()
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := sigsyaml.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("%q: %v\n%s", v, err, out)
		}
		if got, ok := m["k"].(string); !ok || got != v {
			t.Errorf("%q written as %q reads back as %#v", v, out, m["k"])
		}
	}
}

// TestReadable: each node Readable accepts can be read by every kyaml getter it
// guards without a panic, and the shapes that panicked before are refused.
func TestReadable(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want bool
	}{
		{"{apiVersion: v1, kind: ConfigMap, metadata: {name: c, annotations: {a: b}, labels: {l: v}}}", true},
		{"{kind: ConfigMap}", true},
		{"{kind: ConfigMap, metadata: null}", true},
		{"{kind: ConfigMap, metadata: {}}", true},
		{"{kind: ConfigMap, metadata: {annotations: null, labels: {}}}", true},
		{"[a]", false},
		{"a", false},
		{"{kind: ConfigMap, metadata: [a]}", false},
		{"{kind: ConfigMap, metadata: x}", false},
		{"{kind: ConfigMap, metadata: {name: c, annotations: [a]}}", false},
		{"{kind: ConfigMap, metadata: {name: c, labels: [a, b, c]}}", false},
	} {
		t.Run(tc.doc, func(t *testing.T) {
			n := yaml.MustParse(tc.doc)
			if got := Readable(n); got != tc.want {
				t.Fatalf("Readable = %v, want %v", got, tc.want)
			}
			if tc.want {
				_, _, _ = n.GetName(), n.GetNamespace(), n.GetKind()
				_, _ = n.GetAnnotations(), n.GetLabels()
			}
		})
	}
	if Readable(nil) {
		t.Error("Readable(nil) = true")
	}
}
