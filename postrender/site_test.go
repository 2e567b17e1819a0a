package postrender

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peruser-dev/peruser/internal/env"
	"github.com/peruser-dev/peruser/internal/golden"
	"github.com/peruser-dev/peruser/internal/testenv"
)

// TestSiteIdentity resolves the identity through a Site, the same way krm-fn does: a
// user by name or by namespace (named by the same function as krm-fn's namespaces),
// supplemental groups from the user's groups (system GIDs dropped).
func TestSiteIdentity(t *testing.T) {
	dir := t.TempDir()
	site := filepath.Join(dir, "site.yaml")
	write(t, site, `apiVersion: peruser.dev/v1alpha1
kind: Site
metadata:
  name: ondemand
spec:
  users:
    - {name: oakley, uid: 20001, gid: 20001}
    - {name: annie.oakley, uid: 20002, gid: 20002, groups: [{name: pzs0001, gid: 30001}, {name: users, gid: 100}]}
`, 0o644)
	write(t, filepath.Join(dir, "hardening.yaml"), `apiVersion: peruser.dev/v1alpha1
kind: Hardening
metadata: {name: by-file}
spec:
  identity: {site: site.yaml, user: annie.oakley}
`, 0o644)
	pod := "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: x}]\n"
	tests := []struct {
		name      string
		args      []string
		wantCode  int
		stdoutHas []string
		stderrHas string
	}{
		{name: "by user", args: []string{"--site", site, "--user", "annie.oakley"},
			stdoutHas: []string{"runAsUser: 20002", "fsGroup: 20002", "supplementalGroups:\n    - 20002\n    - 30001\n"}},
		{name: "by namespace", args: []string{"--site", site, "--namespace", "user-oakley"},
			stdoutHas: []string{"runAsUser: 20001"}},
		{name: "a site path in a --config file is relative to the file", args: []string{"--config", filepath.Join(dir, "hardening.yaml")},
			stdoutHas: []string{"runAsUser: 20002"}},
		{name: "unknown user", args: []string{"--site", site, "--user", "nobody"}, wantCode: exitUsage,
			stderrHas: `no user "nobody" among the site's 2 users (annie.oakley, oakley)`},
		{name: "unknown namespace", args: []string{"--site", site, "--namespace", "user-nobody"}, wantCode: exitUsage,
			stderrHas: `no namespace "user-nobody" among the site's 2 users (user-annie-oakley, user-oakley)`},
		{name: "no such site", args: []string{"--site", filepath.Join(dir, "missing.yaml"), "--user", "oakley"}, wantCode: exitUsage,
			stderrHas: "missing.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, strings.NewReader(pod), &stdout, &stderr, env.OS())
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d\n%s", code, tt.wantCode, stderr.String())
			}
			contains(t, "stdout", stdout.String(), tt.stdoutHas...)
			contains(t, "stderr", stderr.String(), tt.stderrHas)
		})
	}
}

// TestSiteIdentityFromDirectorySnapshot: with --site, a user that exists only in the
// site's directory snapshot is found, with its LDAP groups, and no LDAP server is asked
// (the site's URL points nowhere reachable). The site and its snapshot are read from
// env.Dir, which has no secrets in its environment.
func TestSiteIdentityFromDirectorySnapshot(t *testing.T) {
	env := env.Env{Dir: filepath.Join(testenv.RepoRoot(), "fixtures", "directory-snapshot"), Getenv: func(string) string { return "" }}
	pod := "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: busybox}]\n"
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--site", golden.ConfigFile, "--user", "oakley"}, strings.NewReader(pod), &stdout, &stderr, env); code != 0 {
		t.Fatalf("post-renderer: exit code %d\n%s", code, stderr.String())
	}
	contains(t, "output", stdout.String(), "runAsUser: 20001", "runAsGroup: 20001", "fsGroup: 20001", "- 30001", "- 30100", "- 30200")
}
