package harden

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/internal/golden"
	"github.com/peruser-dev/peruser/internal/testenv"
)

// The fuzz targets check the stream handling on inputs nobody wrote by hand: no panic;
// when the input is valid YAML and hardening succeeds, as many documents come out as
// went in, the output parses, and a second run changes nothing. `go test` runs the
// seeds and the regression corpus in testdata/fuzz; `go test -fuzz=FuzzStream ./harden`
// explores further.

func fuzzHardener(t testing.TB) *Hardener {
	h, err := New(v1alpha1.HardeningSpec{
		Lifetime:         "8h",
		Labels:           map[string]string{"peruser.dev/user": "fuzz"},
		ImagePullSecrets: []string{"regcred"},
		RegistryRewrites: []v1alpha1.RegistryRewrite{{From: "docker.io", To: "registry.example.edu/hub"}},
		Exceptions:       v1alpha1.HardeningExceptions{HostPathPrefixes: []string{"/users/"}, VolumeTypes: []string{"nfs"}},
	}, Identity{UID: 20001, GID: 20001, SupplementalGroups: []int64{30001}})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// checkFuzzProperties is the oracle shared by both targets.
func checkFuzzProperties(t *testing.T, h *Hardener, in []byte) {
	out, st, err := h.Stream(in)
	nin, perr := yamlDocuments(in)
	if err != nil {
		if out != nil {
			t.Fatalf("output with an error")
		}
		var es Errors
		if !errors.As(err, &es) {
			t.Fatalf("error of unexpected type %T: %v", err, err)
		}
		if perr == nil {
			// The whole stream parses: a per-document parse error means the splitter
			// cut where the parser does not.
			for _, e := range es {
				if e.Kind == "" && e.Name == "" && len(e.Errs) > 0 && bytes.HasPrefix([]byte(e.Errs[0].Message), []byte("invalid YAML")) {
					t.Fatalf("valid stream refused: %v", err)
				}
			}
		}
		return
	}
	if st.Documents != len(split(out)) {
		t.Fatalf("documents in %d, out %d", st.Documents, len(split(out)))
	}
	if perr != nil {
		return
	}
	nout, err := yamlDocuments(out)
	if err != nil {
		t.Fatalf("output does not parse: %v\ninput:\n%q\noutput:\n%q", err, in, out)
	}
	if nin != nout {
		t.Fatalf("YAML documents in %d, out %d\ninput:\n%q\noutput:\n%q", nin, nout, in, out)
	}
	again, st2, err := h.Stream(out)
	if err != nil {
		t.Fatalf("second run failed: %v\noutput:\n%q", err, out)
	}
	if !bytes.Equal(again, out) || st2.Rewritten != 0 {
		t.Fatalf("not idempotent\nfirst:\n%q\nsecond:\n%q", out, again)
	}
}

func FuzzStream(f *testing.F) {
	// Seeds: every fixture input and a few hand-picked edges.
	inputs, _ := filepath.Glob(filepath.Join(testenv.RepoRoot(), "fixtures", "harden", "*", golden.InputFile))
	for _, p := range inputs {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"", "---", "---\n", "...\n", "--- |\n  x\n", "a: &a [*a]\n", "kind: Pod\nspec: {containers: [{}]}\n",
		"kind: List\nitems: [{kind: Pod, spec: {containers: [{name: a}]}}]\n",
		"apiVersion: v1\nkind: Pod\nspec:\n  containers: [{name: a, securityContext: []}]\n",
		"%YAML 1.2\n---\nkind: Pod\nspec: {containers: [{name: a}]}\n",
	} {
		f.Add([]byte(s))
	}
	h := fuzzHardener(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		checkFuzzProperties(t, h, in)
	})
}

// streamPieces are fragments FuzzStreamPieces strings together, so the fuzzer builds
// multi-document streams with workloads, separators and comments far more often than
// byte mutation would.
var streamPieces = []string{
	"---\n",
	"--- # c\n",
	"...\n",
	"# Source: chart/templates/x.yaml\n",
	"\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    image: nginx\n",
	"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers: [{name: a, image: busybox, securityContext: {runAsUser: 0, capabilities: {add: [NET_ADMIN]}}}]\n",
	"apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: cj}\nspec: {jobTemplate: {spec: {template: {spec: {containers: [{name: a}]}}}}}\n",
	"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: l}\n  spec: {containers: [{name: a}]}\n",
	"apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec:\n  template:\n    spec:\n      containers: [{name: a}]\n",
	"kind: Pod\nspec:\n  volumes: [{name: h, hostPath: {path: /users/x}}, {name: n, nfs: {server: s, path: /}}]\n  containers: [{name: a}]\n",
	"kind: Pod\nspec: {hostNetwork: true, containers: [{name: a}]}\n",
	"x: &a {b: 1}\ny: *a\n",
	"kind: Pod\nspec:\n  containers:\n  - &c {name: a, securityContext: {privileged: true}}\n  - <<: *c\n    name: b\n",
	"plain scalar\n",
	"- a\n- b\n",
	"key: |\n  ---\n  not a separator\n",
	"apiVersion: v1\r\nkind: Pod\r\nspec:\r\n  containers:\r\n  - name: a\r\n",
	"kind: Pod\nspec: {containers: [{name: a}]}",
	"\tbad: indent\n",
}

func FuzzStreamPieces(f *testing.F) {
	f.Add([]byte{0, 6, 0, 7, 0, 5})
	f.Add([]byte{3, 6, 2, 0, 9, 1, 10, 0, 14})
	f.Add([]byte{6, 19, 15, 0, 16, 2, 17})
	h := fuzzHardener(f)
	f.Fuzz(func(t *testing.T, picks []byte) {
		var in bytes.Buffer
		for _, p := range picks {
			in.WriteString(streamPieces[int(p)%len(streamPieces)])
		}
		checkFuzzProperties(t, h, in.Bytes())
	})
}
