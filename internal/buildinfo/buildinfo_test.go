package buildinfo

import (
	"os"
	"runtime/debug"
	"testing"

	// Defines -update, so that `go test ./... -update` runs in every package.
	_ "github.com/peruser-dev/peruser/internal/golden"
)

func TestLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"checkout", debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "3bdb129c1f0e4a5b6c7d8e9f00112233445566778"},
			{Key: "vcs.time", Value: "2026-12-02T05:00:00Z"},
			{Key: "vcs.modified", Value: "true"}}},
			"krm-fn devel (commit 3bdb129c1f0e, 2026-12-02T05:00:00Z, modified) go1.26.0"},
		{"go install", debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v0.2.0"}},
			"krm-fn v0.2.0 go1.26.0"},
		{"no version", debug.BuildInfo{}, "krm-fn devel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := FromBuildInfo(&tc.bi).Line("krm-fn"); got != tc.want {
				t.Errorf("Line = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestIsTerminal(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Errorf("%s is not a terminal", os.DevNull)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if IsTerminal(r) {
		t.Error("a pipe is not a terminal")
	}
}
