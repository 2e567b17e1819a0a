package postrender

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKustomizeConfigErrorLine: an error in the transformer's config names its file and
// the line there, not a line of the ResourceList kustomize pipes in (keys sorted).
func TestKustomizeConfigErrorLine(t *testing.T) {
	t.Parallel() // waits on its own tools and processes; runs beside the package's other parallel tests
	dir := kustomizeDir(t, true, "")
	b, err := os.ReadFile(filepath.Join(dir, "hardening.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// Line 14 (after allowDowngrade: on line 13): a misspelt field.
	cfg := strings.TrimRight(string(b), "\n") + "\n  lifetme: 8h\n"
	write(t, filepath.Join(dir, "hardening.yaml"), cfg, 0o644)
	out, stderr, err := kustomizeBuild(t, dir)
	if err == nil {
		t.Fatalf("kustomize build succeeded:\n%s", out)
	}
	contains(t, "stderr", stderr, "hardening.yaml:14: spec.lifetme: unknown field")
}
