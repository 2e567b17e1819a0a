package harden

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/internal/golden"
	"github.com/peruser-dev/peruser/internal/testenv"
	"github.com/peruser-dev/peruser/spec"
)

// TestGolden runs every case under fixtures/harden/<case>/: config.yaml (a Hardening)
// and input.yaml give either expected.yaml (the output) or errors.txt (the error
// message, exactly; package golden). Successful cases also go through checkStream: documents in
// = documents out, untouched documents byte-identical, idempotent, no reader
// annotations, every pod template admitted by Pod Security "restricted".
func TestGolden(t *testing.T) {
	root := filepath.Join(testenv.RepoRoot(), "fixtures", "harden")
	cases := golden.Cases(t, root, func(t *testing.T) golden.Outcome {
		cfg := loadFixtureConfig(t, golden.ConfigFile)
		h, err := New(cfg.Spec, ExplicitIdentity(cfg.Spec.Identity))
		if err != nil {
			t.Fatalf("options: %v", err)
		}
		in := readFile(t, golden.InputFile)
		out, _, err := h.Stream(in)
		if err != nil {
			if out != nil {
				t.Errorf("output must be nil on error, got %d bytes", len(out))
			}
			return golden.Outcome{Errors: []byte(err.Error() + "\n")}
		}
		checkStream(t, h, in, out)
		return golden.Outcome{Output: out}
	})
	if cases < 10 {
		t.Errorf("only %d golden cases under %s", cases, root)
	}
}

// loadFixtureConfig loads a case's Hardening the way the binary does: schema, strict
// decode, validation.
func loadFixtureConfig(t *testing.T, path string) *v1alpha1.Hardening {
	t.Helper()
	h, _, err := spec.LoadHardeningDocument(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return h
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// exceptedVolumes lists the volumes a site allows by exception, found independently of
// templateRun.volumes: through the API type.
func exceptedVolumes(h *Hardener, vols []corev1.Volume) []int {
	var out []int
	for i, v := range vols {
		if v.HostPath != nil {
			if h.hostPathAllowed(v.HostPath.Path) {
				out = append(out, i)
			}
			continue
		}
		b, _ := json.Marshal(v.VolumeSource)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		for k := range m {
			if h.volumeTypes[k] {
				out = append(out, i)
			}
		}
	}
	return out
}

// yamlDocuments counts documents the way a YAML parser does (empty ones included).
func yamlDocuments(b []byte) (int, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	n := 0
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

// checkStream asserts the stream-fidelity properties of one successful run.
func checkStream(t *testing.T, h *Hardener, in, out []byte) {
	t.Helper()
	ic, oc := split(in), split(out)
	if len(ic) != len(oc) {
		t.Fatalf("documents in %d, out %d", len(ic), len(oc))
	}
	if nin, err := yamlDocuments(in); err == nil {
		nout, err := yamlDocuments(out)
		if err != nil {
			t.Fatalf("output does not parse: %v", err)
		}
		if nin != nout {
			t.Errorf("YAML documents in %d, out %d", nin, nout)
		}
	}
	for i := range ic {
		a, b := in[ic[i].start:ic[i].end], out[oc[i].start:oc[i].end]
		if bytes.Equal(a, b) {
			continue
		}
		if !bytes.Equal(in[ic[i].start:ic[i].bodyStart], out[oc[i].start:oc[i].bodyStart]) {
			t.Errorf("document %d: leading separator and comments changed", i+1)
		}
		doc, err := parseOne(in[ic[i].bodyStart:ic[i].suffixStart])
		if err != nil || doc == nil || !holdsPodTemplate(h, doc.Content[0]) {
			t.Errorf("document %d changed but holds no pod template:\n%s", i+1, b)
		}
	}
	for _, reader := range []string{"config.kubernetes.io/index", "internal.config.kubernetes.io", "kustomize.config.k8s.io/id", "config.k8s.io/id"} {
		if bytes.Contains(out, []byte(reader)) && !bytes.Contains(in, []byte(reader)) {
			t.Errorf("reader annotation %s leaked into the output", reader)
		}
	}
	again, st, err := h.Stream(out)
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if !bytes.Equal(again, out) || st.Rewritten != 0 {
		t.Errorf("not idempotent: the second run rewrote %d documents:\n%s", st.Rewritten, golden.Diff(string(out), string(again)))
	}
	if h.evaluator != nil {
		assertRestricted(t, h, out)
	}
}

func holdsPodTemplate(h *Hardener, n *yaml.Node) bool {
	if items := lookup(n, "items"); isSeq(items) {
		for _, it := range items.Content {
			if holdsPodTemplate(h, it) {
				return true
			}
		}
	}
	return len(h.templatesOf(n, "")) > 0
}

// assertRestricted evaluates every pod template of the output with Pod Security
// Admission, independently of Stream's own verification, and checks the identity.
func assertRestricted(t *testing.T, h *Hardener, out []byte) {
	t.Helper()
	for i, c := range split(out) {
		doc, err := parseOne(out[c.bodyStart:c.suffixStart])
		if err != nil || doc == nil {
			continue
		}
		var visit func(n *yaml.Node)
		visit = func(n *yaml.Node) {
			if items := lookup(n, "items"); isSeq(items) {
				for _, it := range items.Content {
					visit(it)
				}
			}
			for _, tpl := range h.templatesOf(n, "") {
				spec, err := podSpecOf(lookup(tpl.node, "spec"))
				if err != nil {
					t.Errorf("document %d %s: %v", i+1, tpl.path, err)
					continue
				}
				sc := spec.SecurityContext
				if sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != h.id.UID || sc.RunAsGroup == nil || *sc.RunAsGroup != h.id.GID ||
					sc.FSGroup == nil || *sc.FSGroup != h.id.GID || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
					t.Errorf("document %d %s: pod identity not forced: %+v", i+1, tpl.path, sc)
				}
				if errs := h.verify(tpl, exceptedVolumes(h, spec.Volumes)); len(errs) > 0 {
					t.Errorf("document %d: %v", i+1, errs)
				}
			}
		}
		visit(doc.Content[0])
	}
}
