package krmfn_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peruser-dev/peruser/internal/golden"
	"github.com/peruser-dev/peruser/internal/testenv"
)

// TestKustomizeErrorLines runs the golden error cases through the real kustomize CLI,
// with the site as a generator: the errors name config.yaml and the line in the user's
// file (kustomize pipes the config with its keys sorted, so a line taken from the
// ResourceList would be wrong). Each case's site gets one line, the function
// annotation, after `metadata:`; expected lines below it move down by one.
func TestKustomizeErrorLines(t *testing.T) {
	kustomize := testenv.Kustomize(t)
	bin := krmFn(t)
	cases, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "fixtures", "error-*", golden.ErrorsFile))
	require.NoError(t, err)
	lineRE := regexp.MustCompile(`^krm-fn: error: ` + regexp.QuoteMeta(golden.ConfigFile) + `:(\d+): (spec\..*)$`)
	ran := 0
	for _, errPath := range cases {
		src := filepath.Dir(errPath)
		want, err := os.ReadFile(errPath)
		require.NoError(t, err)
		site, err := os.ReadFile(filepath.Join(src, golden.ConfigFile))
		require.NoError(t, err)
		lines := strings.Split(strings.TrimSpace(string(want)), "\n")
		meta := metadataLine(string(site))
		usable := meta > 0
		for _, l := range lines {
			usable = usable && lineRE.MatchString(strings.TrimSpace(l))
		}
		if !usable {
			continue // not a field error of a block-style site: kustomize fails before running the function
		}
		ran++
		t.Run(filepath.Base(src), func(t *testing.T) {
			t.Parallel() // each case waits on two processes (kustomize, krm-fn) in its own directory
			dir := t.TempDir()
			require.NoError(t, os.CopyFS(dir, os.DirFS(src)))
			siteLines := strings.Split(string(site), "\n")
			annotation := `  annotations: {config.kubernetes.io/function: "exec: {path: ` + bin + `}"}`
			siteLines = append(siteLines[:meta], append([]string{annotation}, siteLines[meta:]...)...)
			require.NoError(t, os.WriteFile(filepath.Join(dir, golden.ConfigFile), []byte(strings.Join(siteLines, "\n")), 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte("generators:\n- "+golden.ConfigFile+"\n"), 0o644))
			out, stderr, err := kustomizeBuild(t, kustomize, dir)
			require.Error(t, err)
			assert.Empty(t, out)
			for _, l := range lines {
				m := lineRE.FindStringSubmatch(strings.TrimSpace(l))
				n, _ := strconv.Atoi(m[1])
				if n > meta {
					n++
				}
				assert.Contains(t, stderr, fmt.Sprintf("krm-fn: error: %s:%d: %s", golden.ConfigFile, n, m[2]))
			}
		})
	}
	assert.Greater(t, ran, 15, "most golden error cases run under kustomize")
}

// metadataLine is the 1-based line of a block-style `metadata:` key, 0 when none.
func metadataLine(site string) int {
	for i, l := range strings.Split(site, "\n") {
		if strings.TrimSpace(l) == "metadata:" && !strings.HasPrefix(l, " ") {
			return i + 1
		}
	}
	return 0
}
