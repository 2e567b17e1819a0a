package krmfn_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/peruser-dev/peruser/internal/crash"
	"github.com/peruser-dev/peruser/internal/env"
	"github.com/peruser-dev/peruser/internal/golden"
	"github.com/peruser-dev/peruser/internal/testenv"
	"github.com/peruser-dev/peruser/krmfn"
)

// FuzzResourceList feeds arbitrary bytes to the KRM function: never an internal error
// (a panic the guard caught), and on success or failure a well-formed exit code.
// Inputs that name a directory are skipped: they would try to reach LDAP servers.
func FuzzResourceList(f *testing.F) {
	sites, _ := filepath.Glob(filepath.Join(testenv.RepoRoot(), "fixtures", "*", golden.ConfigFile))
	for _, p := range sites {
		b, err := os.ReadFile(p)
		if err != nil || bytes.Contains(b, []byte("directory:")) {
			continue
		}
		var rl bytes.Buffer
		rl.WriteString("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n")
		for _, line := range bytes.Split(b, []byte("\n")) {
			rl.WriteString("  ")
			rl.Write(line)
			rl.WriteString("\n")
		}
		f.Add(rl.Bytes())
	}
	f.Add([]byte("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: [{apiVersion: v1, kind: ConfigMap, metadata: {name: c}}]\nfunctionConfig: [a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.Contains(data, []byte("irectory")) || bytes.Contains(data, []byte("ldap")) {
			return
		}
		var stdout, stderr bytes.Buffer
		env := env.Env{Dir: t.TempDir(), Getenv: func(string) string { return "" }, Stderr: &stderr}
		code := krmfn.Run(context.Background(), nil, bytes.NewReader(data), &stdout, &stderr, env)
		if code == crash.ExitCode {
			t.Fatalf("internal error: %s", stderr.String())
		}
		if code != 0 && stderr.Len() == 0 {
			t.Fatalf("exit %d without a message", code)
		}
	})
}
