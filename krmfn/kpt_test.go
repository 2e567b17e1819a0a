package krmfn_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peruser-dev/peruser/internal/testenv"
)

// kptSite is a package's site.yaml; local-config keeps it out of `kpt live apply`.
const kptSite = `apiVersion: peruser.dev/v1alpha1
kind: Site
metadata:
  name: kpt-site
  annotations:
    config.kubernetes.io/local-config: "true"
spec:
  users:
  - {name: oakley, uid: 20001, gid: 20001}
  - {name: annie, uid: 20002, gid: 20002}
`

// kptPackage writes a package holding site.yaml (and a Kptfile when kptfile is set)
// and returns its directory and the krm-fn it runs.
func kptPackage(t *testing.T, kptfile string) (dir, bin string) {
	t.Helper()
	bin = krmFn(t)
	dir = t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "site.yaml"), []byte(kptSite), 0o644))
	if kptfile != "" {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "Kptfile"), []byte(strings.ReplaceAll(kptfile, "BIN", bin)), 0o644))
	}
	return dir, bin
}

// runKpt runs kpt in dir and returns its combined output.
func runKpt(t *testing.T, kpt, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(kpt, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// snapshotDir reads every file of dir.
func snapshotDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		files[e.Name()] = string(b)
	}
	return files
}

// TestKptFnEvalInPlace: `kpt fn eval --exec` writes the objects beside the site, keeps
// site.yaml byte for byte, and a second run replaces the objects instead of adding
// a second copy.
func TestKptFnEvalInPlace(t *testing.T) {
	t.Parallel() // waits on its own servers and processes; runs beside the package's other parallel tests
	kpt := testenv.Kpt(t)
	dir, bin := kptPackage(t, "")
	out, err := runKpt(t, kpt, dir, "fn", "eval", ".", "--exec", bin, "--fn-config", "site.yaml")
	require.NoError(t, err, out)
	first := snapshotDir(t, dir)
	assert.Equal(t, kptSite, first["site.yaml"], "the function config must survive")
	objs := first["peruser-kpt-site.yaml"]
	assert.Contains(t, objs, "name: user-oakley")
	assert.Equal(t, 2, strings.Count(objs, "kind: Namespace\n"))
	assert.NotContains(t, objs, "config.kubernetes.io/")

	out, err = runKpt(t, kpt, dir, "fn", "eval", ".", "--exec", bin, "--fn-config", "site.yaml")
	require.NoError(t, err, out)
	assert.Equal(t, first, snapshotDir(t, dir), "a second run changes nothing")
}

// TestKptFnRenderTwice: krm-fn as a Kptfile mutator; two renders give the same bytes,
// site.yaml included (a function that drops its config would delete it, and the
// second render would fail for the missing functionConfig).
func TestKptFnRenderTwice(t *testing.T) {
	t.Parallel() // waits on its own servers and processes; runs beside the package's other parallel tests
	kpt := testenv.Kpt(t)
	dir, _ := kptPackage(t, `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: pkg
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  mutators:
  - exec: BIN
    configPath: site.yaml
`)
	out, err := runKpt(t, kpt, dir, "fn", "render", ".", "--allow-exec")
	require.NoError(t, err, out)
	first := snapshotDir(t, dir)
	assert.Equal(t, kptSite, first["site.yaml"])
	require.Contains(t, first, "peruser-kpt-site.yaml")

	out, err = runKpt(t, kpt, dir, "fn", "render", ".", "--allow-exec")
	require.NoError(t, err, out)
	assert.Equal(t, first, snapshotDir(t, dir))

	// An error: kpt fails, shows the result and krm-fn's line in site.yaml, and
	// leaves every file as it was.
	broken := strings.Replace(kptSite, "uid: 20002", "uid: 0", 1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "site.yaml"), []byte(broken), 0o644))
	before := snapshotDir(t, dir)
	out, err = runKpt(t, kpt, dir, "fn", "render", ".", "--allow-exec")
	require.Error(t, err)
	assert.Contains(t, out, "[error] peruser.dev/v1alpha1/Site/kpt-site spec.users[1].uid: must be ≥ 1, got 0", "the ResourceList result")
	assert.Contains(t, out, "krm-fn: error: site.yaml:10: spec.users[1].uid: must be ≥ 1, got 0")
	assert.Equal(t, before, snapshotDir(t, dir))
}
