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

// TestGolden renders every case fixtures/<case>/config.yaml (a Site) as `krm-fn render
// config.yaml` run in the case's directory: stdout is compared with expected.yaml and,
// for a failing case, stderr with errors.txt (golden.Cases: exactly, both rewritten by
// -update). A successful case's stderr must be empty or equal warnings.txt. An
// optional env file holds KEY=VALUE lines: the only environment the case sees.
func TestGolden(t *testing.T) {
	golden.Cases(t, filepath.Join(testenv.RepoRoot(), "fixtures"), func(t *testing.T) golden.Outcome {
		stdout, stderr, code := runCLI(t, readEnv(t, "env"), "render", golden.ConfigFile)
		if code != 0 {
			assert.Empty(t, stdout, "a failed render must print nothing on stdout")
			require.NotEmpty(t, stderr, "exit status %d without a message", code)
			return golden.Outcome{Errors: []byte(stderr)}
		}
		// warnings.txt, when present, is what a successful render prints on stderr.
		if _, err := os.Stat("warnings.txt"); err == nil {
			golden.Assert(t, "warnings.txt", []byte(stderr))
		} else {
			assert.Empty(t, stderr)
		}
		return golden.Outcome{Output: []byte(stdout)}
	})
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
