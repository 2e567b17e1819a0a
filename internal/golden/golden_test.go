package golden

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// recorder is the testing.TB that AssertCase reports to: it records a failure instead
// of failing the test that checks AssertCase. Only the methods AssertCase calls are
// defined; any other would panic on the nil TB.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatal(...any)          { r.failed = true; runtime.Goexit() }
func (r *recorder) Fatalf(string, ...any) { r.failed = true; runtime.Goexit() }

// assertCase runs AssertCase on its own goroutine, so that a Fatal ends only it.
func assertCase(dir string, o Outcome) (failed bool) {
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		AssertCase(r, dir, o)
	}()
	<-done
	return r.failed
}

func TestAssertCase(t *testing.T) {
	defer func(was bool) { *update = was }(*update)
	*update = false // the checks, also under `go test ./... -update`
	out, errs := []byte("kind: Namespace\n"), []byte("krm-fn: error: config.yaml:8: spec.users[1].uid: must be ≥ 1, got 0\n")
	tests := []struct {
		name  string
		files map[string]string // the case's golden files
		got   Outcome
		fails bool
	}{
		{"output as expected", map[string]string{ExpectedFile: string(out)}, Outcome{Output: out}, false},
		{"empty output as expected", map[string]string{ExpectedFile: ""}, Outcome{}, false},
		{"error as expected", map[string]string{ErrorsFile: string(errs)}, Outcome{Errors: errs}, false},
		{"output and error as expected", map[string]string{ExpectedFile: string(out), ErrorsFile: string(errs)}, Outcome{out, errs}, false},
		{"other output", map[string]string{ExpectedFile: "kind: Secret\n"}, Outcome{Output: out}, true},
		{"error message is compared whole", map[string]string{ErrorsFile: string(errs[:20])}, Outcome{Errors: errs}, true},
		{"expected an error, succeeded", map[string]string{ErrorsFile: string(errs)}, Outcome{Output: out}, true},
		{"expected output, failed", map[string]string{ExpectedFile: string(out)}, Outcome{Errors: errs}, true},
		{"output where none is expected", map[string]string{ErrorsFile: string(errs)}, Outcome{out, errs}, true},
		{"no golden file, succeeded", nil, Outcome{Output: out}, true},
		{"no golden file, printed nothing", nil, Outcome{}, true},
		{"no golden file, failed", nil, Outcome{Errors: errs}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				Write(t, filepath.Join(dir, name), []byte(content))
			}
			if failed := assertCase(dir, tt.got); failed != tt.fails {
				t.Errorf("AssertCase failed = %t, want %t", failed, tt.fails)
			}
		})
	}
}

// TestAssertCaseUpdate: -update writes the files an outcome calls for and removes the
// other, after which the case passes.
func TestAssertCaseUpdate(t *testing.T) {
	defer func(was bool) { *update = was }(*update)
	for _, o := range []Outcome{{Output: []byte("a: 1\n")}, {}, {Errors: []byte("boom\n")}, {[]byte("a: 1\n"), []byte("boom\n")}} {
		dir := t.TempDir()
		Write(t, filepath.Join(dir, ExpectedFile), []byte("stale\n"))
		Write(t, filepath.Join(dir, ErrorsFile), []byte("stale\n"))
		*update = true
		if assertCase(dir, o) {
			t.Fatalf("%+v: update failed", o)
		}
		*update = false
		if assertCase(dir, o) {
			t.Errorf("%+v: fails after -update", o)
		}
		_, err := os.Stat(filepath.Join(dir, ErrorsFile))
		if (err == nil) != (len(o.Errors) > 0) {
			t.Errorf("%+v: errors.txt present = %t", o, err == nil)
		}
	}
}

// TestCases: only directories holding config.yaml are cases, each run in its directory.
func TestCases(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"a", "b"} {
		Write(t, filepath.Join(root, d, ConfigFile), []byte(d+"\n"))
		Write(t, filepath.Join(root, d, ExpectedFile), []byte(d+"\n"))
	}
	Write(t, filepath.Join(root, "not-a-case", ExpectedFile), []byte("x\n"))
	Write(t, filepath.Join(root, "file.yaml"), []byte("x\n"))
	n := Cases(t, root, func(t *testing.T) Outcome {
		b, err := os.ReadFile(ConfigFile) // relative: the working directory is the case's
		if err != nil {
			t.Fatal(err)
		}
		return Outcome{Output: b}
	})
	if n != 2 {
		t.Errorf("%d cases, want 2", n)
	}
}

// TestEveryTestPackageDefinesUpdate: `go test ./... -update` stops at the first test
// binary that does not know the flag, so every package of the module with tests must
// import this package from one of its test files.
func TestEveryTestPackageDefinesUpdate(t *testing.T) {
	const self = "github.com/peruser-dev/peruser/internal/golden"
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}} {{len .TestGoFiles}} {{len .XTestGoFiles}} {{join .TestImports ","}},{{join .XTestImports ","}}`, "./...")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[1] == "0" && f[2] == "0" || f[0] == self {
			continue
		}
		checked++
		imports := ""
		if len(f) > 3 {
			imports = f[3]
		}
		if !slices.Contains(strings.Split(imports, ","), self) {
			t.Errorf("%s has tests but no test file imports %s: `go test ./... -update` fails there (add a blank import)", f[0], self)
		}
	}
	if checked < 10 {
		t.Errorf("only %d packages with tests found:\n%s", checked, out)
	}
}
