package postrender

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peruser-dev/peruser/internal/testenv"
)

// kustomizeDir lays out what an Argo CD application would hold: a kustomization that
// inflates the hpc-suite chart with helmCharts: and, when hardened, runs the
// post-renderer as a KRM transformer from transformers:.
// The tools are looked up first, so that no binary is built for a test that skips.
func kustomizeDir(t *testing.T, hardened bool, valuesInline string) string {
	t.Helper()
	testenv.Kustomize(t)
	testenv.Helm3(t)
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "charts", "hpc-suite"), os.DirFS(chartDir("hpc-suite"))); err != nil {
		t.Fatal(err)
	}
	k := "helmGlobals:\n  chartHome: charts\nhelmCharts:\n- name: hpc-suite\n  releaseName: rel\n  includeCRDs: true\n" + valuesInline
	if hardened {
		k += "transformers:\n- hardening.yaml\n"
		testenv.Install(t, postRendererBinary(t), filepath.Join(dir, "post-renderer"))
		write(t, filepath.Join(dir, "hardening.yaml"), `apiVersion: peruser.dev/v1alpha1
kind: Hardening
metadata:
  name: harden
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: ./post-renderer
spec:
  identity:
    site: site.yaml
    namespace: user-oakley
  allowDowngrade: true # hpc-suite's root worker shows the rewrite
`, 0o644)
		write(t, filepath.Join(dir, "site.yaml"), `apiVersion: peruser.dev/v1alpha1
kind: Site
metadata:
  name: ondemand
spec:
  users:
    - {name: oakley, uid: 20001, gid: 20001, groups: [{name: pzs0001, gid: 30001}, {name: users, gid: 100}]}
`, 0o644)
	}
	write(t, filepath.Join(dir, "kustomization.yaml"), k, 0o644)
	return dir
}

func write(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func kustomizeBuild(t *testing.T, dir string) (string, string, error) {
	args := []string{"build", "--enable-helm", "--helm-command", testenv.Helm3(t), "--enable-alpha-plugins", "--enable-exec", dir}
	return runCmd(t, helmEnv(t), dir, testenv.Kustomize(t), args...)
}

// TestKustomize runs the real kustomize CLI with helmCharts: (Helm 3 from ./bin) and the
// hardening transformer, the way Argo CD users render charts (Argo CD has no Helm
// post-renderer). kustomize's helm inflation includes the hooks, so they are hardened.
// The identity comes from a Site next to the kustomization, found by namespace.
func TestKustomize(t *testing.T) {
	t.Parallel() // waits on its own tools and processes; runs beside the package's other parallel tests
	plainOut, stderr, err := kustomizeBuild(t, kustomizeDir(t, false, ""))
	if err != nil {
		t.Fatalf("kustomize build (plain): %v\n%s", err, stderr)
	}
	out, stderr, err := kustomizeBuild(t, kustomizeDir(t, true, ""))
	if err != nil {
		t.Fatalf("kustomize build (hardened): %v\n%s", err, stderr)
	}
	checkHelmOutput(t, helmRun{name: "kustomize", hooksHardened: true, groups: []int64{20001, 30001}}, plainOut, out)
	// Both CRDs (crds/ included by includeCRDs, and the one in templates/) came through.
	if n := strings.Count(out, "kind: CustomResourceDefinition"); n != 2 {
		t.Errorf("%d CRDs in the output, want 2", n)
	}
	for _, leak := range []string{"config.kubernetes.io/index", "internal.config.kubernetes.io", "config.kubernetes.io/function"} {
		if strings.Contains(out, leak) {
			t.Errorf("%s leaked into the output", leak)
		}
	}
}

func TestKustomizeError(t *testing.T) {
	t.Parallel() // waits on its own tools and processes; runs beside the package's other parallel tests
	dir := kustomizeDir(t, true, "  valuesInline:\n    agent:\n      hostPath:\n        enabled: true\n")
	out, stderr, err := kustomizeBuild(t, dir)
	if err == nil {
		t.Fatalf("kustomize build succeeded with a hostPath volume:\n%s", out)
	}
	contains(t, "stderr", stderr, "DaemonSet/rel-agent: spec.template.spec.volumes[0].hostPath: hostPath \"/users/scratch\" is not allowed (allowed prefixes: none); allow it with --allow-host-path /users/scratch")
}
