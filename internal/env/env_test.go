package env

import (
	"bytes"
	"path/filepath"
	"testing"

	// Defines -update, so that `go test ./... -update` runs in every package.
	_ "github.com/peruser-dev/peruser/internal/golden"
)

func TestPath(t *testing.T) {
	abs := filepath.Join(string(filepath.Separator), "etc", "ca.pem")
	tests := []struct {
		name, dir, p, want string
	}{
		{"relative joins Dir", "site", "users.lock.yaml", filepath.Join("site", "users.lock.yaml")},
		{"absolute stays", "site", abs, abs},
		{"empty stays empty", "site", "", ""},
		{"no Dir leaves it", "", "users.lock.yaml", "users.lock.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (Env{Dir: tt.dir}).Path(tt.p); got != tt.want {
				t.Errorf("Path(%q) in %q = %q, want %q", tt.p, tt.dir, got, tt.want)
			}
		})
	}
}

func TestVarAndWarnfOnTheZeroValue(t *testing.T) {
	var e Env
	if got := e.Var("HOME"); got != "" {
		t.Errorf("zero Env read a variable: %q", got)
	}
	e.Warnf("nowhere %d", 1) // a nil Stderr discards, it does not panic

	var buf bytes.Buffer
	e = Env{Getenv: func(k string) string { return map[string]string{"PW": "s3cret"}[k] }, Stderr: &buf}
	if got := e.Var("PW"); got != "s3cret" {
		t.Errorf("Var(PW) = %q", got)
	}
	e.Warnf("spec.directory: %s", "plain LDAP")
	if got, want := buf.String(), "warning: spec.directory: plain LDAP\n"; got != want {
		t.Errorf("Warnf wrote %q, want %q", got, want)
	}
}
