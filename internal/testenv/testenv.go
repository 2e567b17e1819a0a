// Package testenv finds the real command-line tools that integration tests drive
// (kustomize, Helm 3, Helm 4, kpt, slapd) and decides what a missing one means: a skip
// when a developer runs `go test` by hand, a failure under `make test`, which sets
// PERUSER_REQUIRE_TOOLS=1 after installing every tool. It also builds this module's
// commands, once per test binary (Binary), for tests that need the real executable.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Tool returns the path of the executable named by the environment variable envVar,
// or of fallback on PATH. It skips or fails t when neither exists.
func Tool(t testing.TB, envVar, fallback string) string {
	t.Helper()
	if p := Find(envVar, fallback); p != "" {
		return p
	}
	name := fallback
	if name == "" {
		name = strings.ToLower(envVar)
	}
	Missing(t, "%s not found: set %s or run through `make test`", name, envVar)
	return ""
}

// Find returns the executable named by envVar, else name on PATH, else name in one of
// dirs (Debian puts slapd in /usr/sbin, which is not on every PATH); "" when none.
func Find(envVar, name string, dirs ...string) string {
	if p := os.Getenv(envVar); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if name == "" {
		return ""
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range dirs {
		if st, err := os.Stat(filepath.Join(d, name)); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return filepath.Join(d, name)
		}
	}
	return ""
}

// Missing reports a missing prerequisite: fatal when tools are required, a skip otherwise.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("PERUSER_REQUIRE_TOOLS") == "1" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// Kustomize is the kustomize CLI (make installs v5.8.2 into ./bin).
func Kustomize(t testing.TB) string { return Tool(t, "KUSTOMIZE", "kustomize") }

// Helm3 is the Helm 3 CLI (./bin/helm3/helm).
func Helm3(t testing.TB) string { return Tool(t, "HELM3", "") }

// Helm4 is the Helm 4 CLI (./bin/helm4/helm).
func Helm4(t testing.TB) string { return Tool(t, "HELM4", "") }

// Kpt is the kpt CLI (KPT, else kpt on PATH). It does not install with `go install`
// (its dependencies are not all on the module proxy); images with the Google Cloud
// SDK ship it as kpt.
func Kpt(t testing.TB) string { return Tool(t, "KPT", "kpt") }

// RepoRoot is the module's root directory, found from this source file.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}
