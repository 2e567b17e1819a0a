package krmio

import (
	"errors"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"

	// Defines -update, so that `go test ./... -update` runs in every package.
	_ "github.com/peruser-dev/peruser/internal/golden"
)

// TestExecute: what Execute returns when processing succeeds, fails, or never runs.
func TestExecute(t *testing.T) {
	const in = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n"
	failed := errors.New("refused")
	tests := []struct {
		name    string
		in      string
		process func(*framework.ResourceList) error
		wantErr error
		outHas  []string // substrings of out; none means out is empty
	}{
		{"success", in, func(*framework.ResourceList) error { return nil }, nil, []string{"kind: ResourceList", "name: a"}},
		{"failure keeps the results", in, func(rl *framework.ResourceList) error {
			rl.Results = framework.Results{{Message: "refused", Severity: framework.Error}}
			return failed
		}, failed, []string{"name: a", "results:", "message: refused"}},
		{"unreadable input", "kind: [", func(*framework.ResourceList) error { t.Error("process ran"); return nil }, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Execute(strings.NewReader(tt.in), tt.process)
			switch {
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			case tt.wantErr == nil && tt.outHas != nil && err != nil:
				t.Errorf("err = %v", err)
			case tt.outHas == nil && (err == nil || len(out) > 0):
				t.Errorf("err = %v, out %q; want an error and nothing", err, out)
			}
			for _, s := range tt.outHas {
				if !strings.Contains(string(out), s) {
					t.Errorf("out lacks %q:\n%s", s, out)
				}
			}
		})
	}
}
