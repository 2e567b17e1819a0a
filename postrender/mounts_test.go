package postrender

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peruser-dev/peruser/internal/env"
)

// TestSiteMountsAreExceptions: with --site, the site's spec.mounts for the user are
// allowed as --allow-host-path and --allow-volume-type would allow them: the user's own
// hostPath directories and nfs volumes; another user's directory is still refused.
func TestSiteMountsAreExceptions(t *testing.T) {
	dir := t.TempDir()
	site := filepath.Join(dir, "site.yaml")
	write(t, site, `apiVersion: peruser.dev/v1alpha1
kind: Site
metadata:
  name: ondemand
spec:
  mounts:
    - {name: home, nfs: {server: nfs.example.edu, path: "/home/{user}"}}
    - {name: users, hostPath: {path: "/users/{user}"}}
  users:
    - {name: oakley, uid: 20001, gid: 20001}
    - {name: jane.doe, uid: 20002, gid: 20002}
`, 0o644)
	pod := func(volume string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: x}]\n  volumes:\n  - " + volume + "\n"
	}
	tests := []struct {
		name, volume, stderrHas string
		wantCode                int
	}{
		{"own hostPath", "{name: users, hostPath: {path: /users/oakley/work}}", "", 0},
		{"nfs", "{name: home, nfs: {server: nfs.example.edu, path: /home/oakley}}", "", 0},
		{"another user's hostPath", "{name: users, hostPath: {path: /users/jane.doe}}", `hostPath "/users/jane.doe" is not allowed (allowed prefixes: /users/oakley/); allow it with --allow-host-path /users/jane.doe`, exitUnsafe},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"--site", site, "--user", "oakley"}, strings.NewReader(pod(tt.volume)), &stdout, &stderr, env.OS())
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d\n%s", code, tt.wantCode, stderr.String())
			}
			contains(t, "stderr", stderr.String(), tt.stderrHas)
		})
	}
}
