package testenv

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// builds holds, for each main package this test binary has asked for, the one build
// of it (a sync.OnceValues). It is the one piece of state of this package, and it
// lives only as long as the test binary.
var builds sync.Map

// Binary is the main package at pkg (e.g. "./cmd/krm-fn") built as `make build`
// builds it, once per test binary; later calls return the same path, and a failed
// build fails every test that asks for it. A test that needs an external tool as
// well looks the tool up first, so that a missing tool skips it before it waits for
// a build.
//
// The executable is written to a directory of its own in the user's cache directory
// (one per checkout and test binary, so that packages testing in parallel never write
// the same file), and kept there: go build leaves an output whose build ID is already
// current as it is, so a second run costs the check (a fraction of a second) instead
// of a link (seconds). Like Go's build cache it is safe to delete.
func Binary(t testing.TB, pkg string) string {
	t.Helper()
	once, _ := builds.LoadOrStore(pkg, sync.OnceValues(func() (string, error) {
		dir, err := binDir()
		if err != nil {
			return "", err
		}
		return build(pkg, dir)
	}))
	path, err := once.(func() (string, error))()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// CacheDir is the directory Binary builds into, for other build outputs a test wants to
// find again on the next run for the same reason (plugins/helm4/dist.sh keeps its
// binaries beside its archive).
func CacheDir(t testing.TB) string {
	t.Helper()
	dir, err := binDir()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// binDir is where this test binary's builds go: <user cache>/peruser-test-bin/
// <checkout hash>/<test binary name>.
func binDir() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	sum := sha256.Sum256([]byte(RepoRoot()))
	dir := filepath.Join(cache, "peruser-test-bin", hex.EncodeToString(sum[:6]), filepath.Base(os.Args[0]))
	return dir, os.MkdirAll(dir, 0o755)
}

// build compiles the main package at pkg into dir. The executable is stamped with the
// checkout's VCS revision as `make build` stamps it (-buildvcs=auto overrides a
// GOFLAGS=-buildvcs=false in the environment), and static (CGO_ENABLED=0) as released.
func build(pkg, dir string) (string, error) {
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-buildvcs=auto", "-o", out, pkg)
	cmd.Dir = RepoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return out, touchSources(pkg)
}

// touchSources stats every source file of this module that pkg is built from. go test
// caches a package's result keyed on the files its test process opened or stat'ed; a
// test package that runs a built command without importing its code (containerfn,
// e2e) would otherwise be reported "(cached)" after the command's code changed.
func touchSources(pkg string) error {
	cmd := exec.Command("go", "list", "-deps", "-f",
		`{{if not .Standard}}{{range .GoFiles}}{{$.Dir}}/{{.}}{{"\n"}}{{end}}{{range .EmbedFiles}}{{$.Dir}}/{{.}}{{"\n"}}{{end}}{{end}}`, pkg)
	cmd.Dir = RepoRoot()
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("go list -deps %s: %v", pkg, err)
	}
	root := RepoRoot() + string(filepath.Separator)
	for _, f := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.HasPrefix(f, root) {
			if _, err := os.Stat(f); err != nil {
				return err
			}
		}
	}
	return nil
}

// Install copies the executable at bin to dst (an executable file, its directory
// created): the layout a test's tree needs, such as bin/krm-fn beside a kustomization.
func Install(t testing.TB, bin, dst string) {
	t.Helper()
	if err := install(bin, dst); err != nil {
		t.Fatal(err)
	}
}

func install(bin, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(bin)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// ExampleTree copies the root kustomization and examples/ into a temporary directory
// with bin (a built krm-fn) as its bin/krm-fn: the layout `make demo` runs kustomize in.
func ExampleTree(t testing.TB, bin string) string {
	t.Helper()
	root, dir := RepoRoot(), t.TempDir()
	Install(t, bin, filepath.Join(dir, "bin", "krm-fn"))
	b, err := os.ReadFile(filepath.Join(root, "kustomization.yaml"))
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "kustomization.yaml"), b, 0o644)
	}
	if err == nil {
		err = os.CopyFS(filepath.Join(dir, "examples"), os.DirFS(filepath.Join(root, "examples")))
	}
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
