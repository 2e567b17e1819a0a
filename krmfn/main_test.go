package krmfn_test

import (
	"testing"

	"github.com/peruser-dev/peruser/internal/testenv"
)

// krmFn is the real krm-fn executable, for tests that need a process boundary: another
// program runs it (kustomize, kpt, Argo CD's sidecar), or they check what only a built
// binary has (its exit status, `install` copying itself, the VCS stamp). Everything else
// calls krmfn.Run in-process (runCLI). A test that needs an external tool too looks the
// tool up before calling krmFn.
func krmFn(t testing.TB) string {
	t.Helper()
	return testenv.Binary(t, "./cmd/krm-fn")
}
