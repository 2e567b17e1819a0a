package krmfn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peruser-dev/peruser/internal/env"
	"github.com/peruser-dev/peruser/internal/testenv"
	"github.com/peruser-dev/peruser/krmfn"
)

const cliSite = `apiVersion: peruser.dev/v1alpha1
kind: Site
metadata: {name: ondemand-prod}
spec:
  users:
    - {name: oakley, uid: 20001, gid: 20001}
    - {name: "yes", uid: 20002, gid: 20002}
    - {name: jane.doe@example.edu, uid: 20003, gid: 20003, groups: [{name: astro, gid: 30001}]}
`

// Every command answers -h and --help with its own usage on stdout and exit 0, and the
// top usage lists every command: both come from one table.
func TestEveryCommandHasHelp(t *testing.T) {
	top, _, code := runCLI(t, nil, "--help")
	require.Equal(t, 0, code)
	for _, cmd := range []string{"render", "users", "shards", "argocd-plugin", "snapshot", "diff", "values", "ood-cluster", "install", "version", "help"} {
		assert.Contains(t, top, "krm-fn "+cmd, "top usage lists %s", cmd)
		for _, flag := range []string{"-h", "--help"} {
			stdout, stderr, code := runCLI(t, nil, cmd, flag)
			assert.Equal(t, 0, code, "%s %s: %s", cmd, flag, stderr)
			assert.Empty(t, stderr, "%s %s", cmd, flag)
			assert.Contains(t, stdout, "krm-fn "+cmd, "%s %s prints its own usage", cmd, flag)
		}
		stdout, _, code := runCLI(t, nil, "help", cmd)
		assert.Equal(t, 0, code, "help %s", cmd)
		assert.Contains(t, stdout, "krm-fn "+cmd)
	}
	// A flag after the file still asks for help, and never opens a file named --help.
	stdout, stderr, code := runCLI(t, nil, "snapshot", "site.yaml", "--help")
	assert.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "krm-fn snapshot")
}

// Each mistake is one line on stderr, exit 2, nothing on stdout.
func TestCommandLineMistakes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate" (run krm-fn --help for the commands)`},
		{[]string{"--frobnicate"}, "unknown flag --frobnicate"},
		{[]string{"render"}, "render: SITE.yaml is required (a file, or - for stdin)"},
		{[]string{"render", "a.yaml", "b.yaml"}, "render takes one SITE.yaml, got a second: b.yaml"},
		{[]string{"render", "--bogus", "a.yaml"}, "render: unknown flag --bogus"},
		{[]string{"users"}, "users: SITE.yaml is required"},
		{[]string{"users", "--output", "xml", "a.yaml"}, `users: --output is "xml"; accepted: table, json`},
		{[]string{"install"}, "install: DIR is required"},
		{[]string{"version", "extra"}, "version takes no arguments"},
		{[]string{"help", "frobnicate"}, `help: unknown command "frobnicate"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			stdout, stderr, code := runCLI(t, nil, tc.args...)
			assert.Equal(t, 2, code)
			assert.Empty(t, stdout)
			assert.True(t, strings.HasPrefix(stderr, "krm-fn: "+tc.want), "stderr: %q", stderr)
			assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
		})
	}
}

// terminal is a stdin that says it is a terminal, as a person's shell is.
type terminal struct{ bytes.Reader }

func (*terminal) IsTerminal() bool { return true }

func TestNoArgumentsOnATerminalIsAHintNotAWait(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := krmfn.Run(context.Background(), nil, &terminal{}, &stdout, &stderr, env.Env{Dir: "."})
	assert.Equal(t, 2, code)
	assert.Empty(t, stdout.String())
	assert.Equal(t, 1, strings.Count(stderr.String(), "\n"))
	assert.Contains(t, stderr.String(), "stdin is a terminal")
	assert.Contains(t, stderr.String(), "krm-fn --help")
}

func TestVersionNamesTheBuild(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		stdout, _, code := runCLI(t, nil, arg)
		assert.Equal(t, 0, code)
		assert.Regexp(t, `^krm-fn \S+ .*go1\.\d+.*, reads peruser\.dev/v1alpha1\n$`, stdout)
	}
	// A binary built from this checkout names its commit (the Go toolchain's VCS stamp).
	// The toolchain stamps only a checkout whose .git is a directory: not a `git worktree`
	// (.git a file) nor a source tarball.
	bin := krmFn(t)
	out, err := exec.Command(bin, "version").Output()
	require.NoError(t, err)
	if st, err := os.Stat(filepath.Join(testenv.RepoRoot(), ".git")); err == nil && st.IsDir() {
		assert.Contains(t, string(out), "(commit ")
	}
}

func TestSiteFromStdin(t *testing.T) {
	t.Chdir(t.TempDir())
	require.NoError(t, os.WriteFile("site.yaml", []byte(cliSite), 0o644))
	fromFile, _, code := runCLI(t, nil, "render", "site.yaml")
	require.Equal(t, 0, code)
	fromStdin, stderr, code := run(t, nil, cliSite, "render", "-")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, fromFile, fromStdin)
	// Every command that takes a Site file takes - too.
	for _, args := range [][]string{{"users", "-"}, {"users", "--output", "json", "-"}} {
		fromFile, _, code := runCLI(t, nil, append(args[:len(args)-1:len(args)-1], "site.yaml")...)
		require.Equal(t, 0, code, "%v", args)
		fromStdin, stderr, code := run(t, nil, cliSite, args...)
		require.Equal(t, 0, code, "%v: %s", args, stderr)
		assert.Equal(t, fromFile, fromStdin, "%v", args)
	}
	other := strings.Replace(cliSite, "    - {name: oakley, uid: 20001, gid: 20001}\n", "", 1)
	out, stderr, code := run(t, nil, other, "diff", "site.yaml", "-")
	assert.Equal(t, 4, code, stderr)
	assert.Contains(t, out, "oakley")
	_, stderr, code = run(t, nil, cliSite, "diff", "-", "-")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "only one of OLD and NEW can be -")
	_, stderr, code = run(t, nil, cliSite, "values", "job-pod-reaper", "-")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "krm-fn: error: stdin: spec.reapers.jobPodReaper.enabled is false")
	_, stderr, code = run(t, nil, cliSite, "ood-cluster", "-")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "krm-fn: error: stdin: spec.openOnDemand is not set")
	// Errors name stdin and the line.
	_, stderr, code = run(t, nil, strings.Replace(cliSite, "uid: 20002", "uid: 0", 1), "render", "-")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "krm-fn: error: stdin:7: spec.users[1].uid")
}

func TestUsers(t *testing.T) {
	t.Chdir(t.TempDir())
	require.NoError(t, os.WriteFile("site.yaml", []byte(cliSite), 0o644))
	table, stderr, code := runCLI(t, nil, "users", "site.yaml")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, `NAME                  NAMESPACE                  LABEL                 UID    GID    PROFILE
jane.doe@example.edu  user-jane-doe-example-edu  jane-doe-example-edu  20003  20003  -
oakley                user-oakley                oakley                20001  20001  -
yes                   user-yes                   yes                   20002  20002  -
`, table)

	js, _, code := runCLI(t, nil, "users", "--output", "json", "site.yaml")
	require.Equal(t, 0, code)
	var rows []map[string]any
	require.NoError(t, json.Unmarshal([]byte(js), &rows))
	require.Len(t, rows, 3)
	assert.Equal(t, "yes", rows[2]["name"], "a user named yes stays a string")
	assert.Equal(t, []any{"astro"}, rows[0]["groups"])

	// The selector matches exactly the labels the render wrote: the offboarding recipe
	// deletes the RBAC of everyone else, without parsing YAML.
	sel, _, code := runCLI(t, nil, "users", "--departed-selector", "site.yaml")
	require.Equal(t, 0, code)
	assert.Equal(t, "app.kubernetes.io/managed-by=peruser,peruser.dev/site=ondemand-prod,peruser.dev/user,peruser.dev/user notin (jane-doe-example-edu,oakley,yes)\n", sel)
	rendered, _, _ := runCLI(t, nil, "render", "site.yaml")
	for _, l := range []string{"peruser.dev/user: jane-doe-example-edu", `peruser.dev/user: "yes"`, "peruser.dev/user: oakley"} {
		assert.Contains(t, rendered, l)
	}
}
