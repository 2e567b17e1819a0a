// Package buildinfo is what both command lines say about themselves: the version line
// of `version`/`--version`, read from the build info the Go toolchain stamps into the
// binary (module version for `go install …@vX`, VCS revision for a build from a git
// checkout), and whether stdin is a terminal (so that a bare command prints a hint
// instead of waiting for input that will never come).
package buildinfo

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"golang.org/x/term"
)

// Info is the part of the build info a version line shows.
type Info struct {
	Version  string // module version, or "devel" for a build from a checkout
	Revision string // VCS revision, empty when the build had none
	Time     string // commit time (RFC 3339), empty when unknown
	Modified bool   // the work tree had uncommitted changes
	Go       string // toolchain version
}

// Read returns the running binary's Info.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: "devel"}
	}
	return FromBuildInfo(bi)
}

// FromBuildInfo extracts Info from bi (separate from Read for tests).
func FromBuildInfo(bi *debug.BuildInfo) Info {
	info := Info{Version: bi.Main.Version, Go: bi.GoVersion}
	if info.Version == "" || info.Version == "(devel)" {
		info.Version = "devel"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.time":
			info.Time = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// Line is the one line `name version` prints, e.g.
// "krm-fn v0.2.0 (commit 3bdb129c1f0e, 2026-12-02T05:00:00Z, modified) go1.26.0".
func (i Info) Line(name string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", name, i.Version)
	if i.Revision != "" {
		rev := i.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		parts := []string{"commit " + rev}
		if i.Time != "" {
			parts = append(parts, i.Time)
		}
		if i.Modified {
			parts = append(parts, "modified")
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	if i.Go != "" {
		fmt.Fprintf(&b, " %s", i.Go)
	}
	return b.String()
}

// IsTerminal reports whether f is a terminal (a pipe, a file or /dev/null is not).
func IsTerminal(f *os.File) bool {
	return term.IsTerminal(int(f.Fd()))
}

// ReaderIsTerminal reports whether a command's stdin r is a terminal: an *os.File that
// is one, or a reader that says so through an IsTerminal method (as tests pass, so
// that no global needs swapping).
func ReaderIsTerminal(r io.Reader) bool {
	if t, ok := r.(interface{ IsTerminal() bool }); ok {
		return t.IsTerminal()
	}
	f, ok := r.(*os.File)
	return ok && IsTerminal(f)
}
