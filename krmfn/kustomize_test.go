package krmfn_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peruser-dev/peruser/internal/golden"
	"github.com/peruser-dev/peruser/internal/testenv"
)

// kustomizeBuild runs `kustomize build` with exec functions allowed on dir.
func kustomizeBuild(t *testing.T, kustomize, dir string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(kustomize, "build", "--enable-alpha-plugins", "--enable-exec", dir)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// TestKustomizeBuildExample runs the real kustomize CLI on the root kustomization.
func TestKustomizeBuildExample(t *testing.T) {
	t.Parallel() // waits on its own servers and processes; runs beside the package's other parallel tests
	kustomize := testenv.Kustomize(t)
	dir := testenv.ExampleTree(t, krmFn(t))
	out, stderr, err := kustomizeBuild(t, kustomize, dir)
	require.NoError(t, err, stderr)
	golden.Assert(t, filepath.Join(testenv.RepoRoot(), "fixtures", "kustomize-example", "expected.yaml"), []byte(out))
	assert.NotContains(t, out, "kind: Site", "the generator's own config must not be emitted")
	assert.NotContains(t, out, "config.kubernetes.io/")
}

// TestKustomizeBuildFailsOnSpecError shows that a spec error fails the whole build
// with the message, so Argo CD shows it and applies nothing.
func TestKustomizeBuildFailsOnSpecError(t *testing.T) {
	t.Parallel() // waits on its own servers and processes; runs beside the package's other parallel tests
	kustomize := testenv.Kustomize(t)
	dir := testenv.ExampleTree(t, krmFn(t))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "examples", "site.yaml"), []byte(`apiVersion: peruser.dev/v1alpha1
kind: Site
metadata:
  name: broken
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: ./bin/krm-fn
spec:
  users:
    - {name: oakley, uid: 0, gid: 20001}
`), 0o644))
	out, stderr, err := kustomizeBuild(t, kustomize, dir)
	require.Error(t, err)
	assert.Empty(t, out)
	assert.Contains(t, stderr, "spec.users[0].uid: must be ≥ 1, got 0")
}
