package testenv

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// builds holds the executables this test binary has built. Linking krm-fn takes
// seconds, longer than most of the tests that run it, and every test of a package
// needs the same executable: Binary builds each main package once, into one
// directory that Run removes when the tests end. It is the one piece of state of
// this package, and it lives only as long as the test binary.
var builds struct {
	sync.Mutex
	running bool   // Run is running the tests, so dir will be removed
	dir     string // created on the first build
	byPkg   map[string]*built
}

type built struct {
	dir  string // where it goes, one directory per package
	once sync.Once
	path string
	err  error
}

// Run runs a package's tests and then removes the executables Binary built; a
// package that calls Binary calls it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }
//
// It returns m.Run's exit code, for a TestMain with work of its own to do after.
func Run(m *testing.M) int {
	builds.Lock()
	builds.running = true
	builds.Unlock()
	code := m.Run()
	builds.Lock()
	defer builds.Unlock()
	if builds.dir != "" {
		if err := os.RemoveAll(builds.dir); err != nil {
			fmt.Fprintln(os.Stderr, "testenv:", err)
		}
	}
	return code
}

// Binary is the main package at pkg (e.g. "./cmd/krm-fn") built as `make build`
// builds it, once per test binary; later calls return the same path, and a failed
// build fails every test that asks for it. A test that needs an external tool as
// well looks the tool up first, so that a missing tool skips it before it waits for
// a build. The package's TestMain must call Run.
func Binary(t testing.TB, pkg string) string {
	t.Helper()
	b, err := buildFor(pkg)
	if err != nil {
		t.Fatal(err)
	}
	b.once.Do(func() { b.path, b.err = build(pkg, b.dir) })
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// buildFor returns pkg's entry, creating the build directory on first use.
func buildFor(pkg string) (*built, error) {
	builds.Lock()
	defer builds.Unlock()
	if !builds.running {
		return nil, errors.New("testenv.Binary: the package's TestMain must call testenv.Run, which removes the built executables")
	}
	if builds.dir == "" {
		dir, err := os.MkdirTemp("", "peruser-test-bin-")
		if err != nil {
			return nil, err
		}
		builds.dir = dir
	}
	b, ok := builds.byPkg[pkg]
	if !ok {
		if builds.byPkg == nil {
			builds.byPkg = map[string]*built{}
		}
		b = &built{dir: filepath.Join(builds.dir, fmt.Sprint(len(builds.byPkg)))}
		builds.byPkg[pkg] = b
	}
	return b, nil
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
	return out, nil
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
