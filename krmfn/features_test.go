package krmfn_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peruser-dev/peruser/internal/golden"
	"github.com/peruser-dev/peruser/internal/testenv"
)

// TestFeatureCommandsGolden runs `krm-fn values` and `krm-fn ood-cluster` in every
// fixture that holds their golden output, next to the render golden files:
//
//	job-pod-reaper-values.yaml       krm-fn values job-pod-reaper config.yaml
//	k8-namespace-reaper-values.yaml  krm-fn values k8-namespace-reaper config.yaml
//	ood-cluster.yaml                 krm-fn ood-cluster config.yaml (stdout)
//	ood-cluster.stderr               its warnings (compared when the file exists)
func TestFeatureCommandsGolden(t *testing.T) {
	commands := []struct {
		golden string
		args   []string
	}{
		{"job-pod-reaper-values.yaml", []string{"values", "job-pod-reaper", golden.ConfigFile}},
		{"k8-namespace-reaper-values.yaml", []string{"values", "k8-namespace-reaper", golden.ConfigFile}},
		{"ood-cluster.yaml", []string{"ood-cluster", golden.ConfigFile}},
	}
	dirs, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "fixtures", "*"))
	require.NoError(t, err)
	ran := 0
	for _, dir := range dirs {
		for _, c := range commands {
			if _, err := os.Stat(filepath.Join(dir, c.golden)); err != nil {
				continue
			}
			ran++
			t.Run(filepath.Base(dir)+"/"+c.golden, func(t *testing.T) {
				t.Chdir(dir)
				stdout, stderr, code := runCLI(t, readEnv(t, "env"), c.args...)
				require.Equal(t, 0, code, "stderr:\n%s", stderr)
				golden.Assert(t, c.golden, []byte(stdout))
				if c.golden == "ood-cluster.yaml" {
					if _, err := os.Stat("ood-cluster.stderr"); err == nil {
						golden.Assert(t, "ood-cluster.stderr", []byte(stderr))
						return
					}
				}
				assert.Empty(t, stderr)
			})
		}
	}
	assert.GreaterOrEqual(t, ran, 4, "golden files of values/ood-cluster missing from fixtures/")
}

// TestFeatureCommandsErrors: refusals print nothing on stdout and say what to do.
func TestFeatureCommandsErrors(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		args    []string
		code    int
		stderr  []string
	}{
		{"unknown chart", "full-site", []string{"values", "pod-reaper", golden.ConfigFile}, 2,
			[]string{`values: unknown chart "pod-reaper" (known: job-pod-reaper, k8-namespace-reaper)`}},
		{"values without a chart", "full-site", []string{"values", golden.ConfigFile}, 2,
			[]string{"values takes two arguments"}},
		{"job-pod-reaper not enabled", "admission", []string{"values", "job-pod-reaper", golden.ConfigFile}, 1,
			[]string{"spec.reapers.jobPodReaper.enabled is false"}},
		{"namespace reaper not enabled", "reapers", []string{"values", "k8-namespace-reaper", golden.ConfigFile}, 1,
			[]string{"spec.reapers.namespaceReaper.enabled is false"}},
		{"values of an invalid site", "error-reaper-unknown-option", []string{"values", "job-pod-reaper", golden.ConfigFile}, 1,
			[]string{"spec.reapers.jobPodReaper.lifetime: unknown field"}},
		{"ood-cluster without openOnDemand", "admission", []string{"ood-cluster", golden.ConfigFile}, 1,
			[]string{"spec.openOnDemand is not set"}},
		{"ood-cluster strict refuses users OOD cannot address", "naming-kubespawner", []string{"ood-cluster", "--strict", golden.ConfigFile}, 1,
			[]string{`krm-fn: error: config.yaml: user "jane.doe": OOD will use namespace "jupyter-jane-doe" (namespace_prefix + username with '.' and '@' replaced by '-'), but under naming "kubespawner" the user's namespace is "jupyter-jane-doe---d48722fc"`}},
		{"ood-cluster unknown flag", "full-site", []string{"ood-cluster", "--lenient", golden.ConfigFile}, 2,
			[]string{`ood-cluster: unknown flag "--lenient"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(filepath.Join(testenv.RepoRoot(), "fixtures", tt.fixture))
			stdout, stderr, code := runCLI(t, nil, tt.args...)
			assert.Equal(t, tt.code, code, "stderr:\n%s", stderr)
			assert.Empty(t, stdout)
			for _, s := range tt.stderr {
				assert.Contains(t, stderr, s)
			}
		})
	}
}

// TestOODClusterStrictPassesCleanSites: --strict prints the config when every user's
// namespace is prefix + username.
func TestOODClusterStrictPassesCleanSites(t *testing.T) {
	t.Chdir(filepath.Join(testenv.RepoRoot(), "fixtures", "ood-managed"))
	stdout, stderr, code := runCLI(t, nil, "ood-cluster", "--strict", golden.ConfigFile)
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, stderr)
	want, err := os.ReadFile("ood-cluster.yaml")
	require.NoError(t, err)
	assert.Equal(t, string(want), stdout)
}
