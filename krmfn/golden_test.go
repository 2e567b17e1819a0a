package krmfn_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peruser-dev/peruser/internal/env"
	"github.com/peruser-dev/peruser/internal/golden"
	"github.com/peruser-dev/peruser/internal/testenv"
	"github.com/peruser-dev/peruser/krmfn"
)

// TestGolden renders every fixtures/<case>/site.yaml as `krm-fn render site.yaml` run in
// the case's directory, and compares stdout with expected.yaml — or, for a failing case,
// checks that stdout is empty and that every line of error.txt appears in stderr; a
// successful case's stderr must be empty or equal warnings.txt. An
// optional env file holds KEY=VALUE lines: the only environment the case sees.
func TestGolden(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "fixtures", "*", "site.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, cases)
	for _, sitePath := range cases {
		dir := filepath.Dir(sitePath)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Chdir(dir)
			stdout, stderr, code := runCLI(t, readEnv(t, "env"), "render", "site.yaml")
			errPath := "error.txt"
			if _, err := os.Stat(errPath); err == nil {
				assert.NotEqual(t, 0, code, "expected a failure")
				assert.Empty(t, stdout, "a failed render must print nothing on stdout")
				if golden.Updating() {
					golden.Write(t, errPath, []byte(stderr))
					return
				}
				want, err := os.ReadFile(errPath)
				require.NoError(t, err)
				for _, line := range strings.Split(strings.TrimSpace(string(want)), "\n") {
					assert.Contains(t, stderr, strings.TrimSpace(line))
				}
				return
			}
			require.Equal(t, 0, code, "stderr:\n%s", stderr)
			// warnings.txt, when present, is what a successful render prints on stderr.
			if _, err := os.Stat("warnings.txt"); err == nil {
				golden.Assert(t, "warnings.txt", []byte(stderr))
			} else {
				assert.Empty(t, stderr)
			}
			golden.Assert(t, "expected.yaml", []byte(stdout))
		})
	}
}

// runCLI runs krm-fn in-process in the current directory, with env as its whole
// environment.
func runCLI(t *testing.T, env map[string]string, args ...string) (string, string, int) {
	t.Helper()
	return run(t, env, "", args...)
}

// runCLIWithStdin runs krm-fn as a KRM function with a ResourceList on stdin.
func runCLIWithStdin(t *testing.T, stdin string) (string, string, int) {
	t.Helper()
	return run(t, nil, stdin)
}

func run(t *testing.T, vars map[string]string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := env.Env{Dir: ".", Getenv: func(k string) string { return vars[k] }, Stderr: &stderr}
	code := krmfn.Run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr, e)
	return stdout.String(), stderr.String(), code
}

func readEnv(t *testing.T, path string) map[string]string {
	t.Helper()
	env := map[string]string{}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return env
	}
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, "env line %q is not KEY=VALUE", line)
		env[k] = v
	}
	require.NoError(t, sc.Err())
	return env
}
