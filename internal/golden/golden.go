// Package golden compares test output with files under testdata/ or fixtures/ and
// rewrites them when tests run with -update (`go test ./... -update`). Every package
// with tests imports it, so that the flag is defined in every test binary.
//
// A case directory is laid out as kyaml's fn/framework/frameworktestutil lays out its
// test data, so that anyone who has written a KRM function reads it at once:
// config.yaml (the function config: a Site, a Hardening), input.yaml (the stream, when
// the function takes one), and the outcome: expected.yaml (the output) and errors.txt
// (the error output). Unlike frameworktestutil, both are compared exactly (an error
// message is part of the interface: it names the file and line to fix) and -update
// writes both.
package golden

import (
	"bytes"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The files of a case directory, named as frameworktestutil names them.
const (
	ConfigFile   = "config.yaml"   // the function config; its presence makes a directory a case
	InputFile    = "input.yaml"    // the input stream, for functions that take one
	ExpectedFile = "expected.yaml" // the output; absent when the case must print nothing
	ErrorsFile   = "errors.txt"    // the error output; absent when the case must succeed
)

var update = flag.Bool("update", false, "rewrite golden files with the current output")

// Outcome is what one case produced: Output compared with expected.yaml, Errors with
// errors.txt. Errors empty means the case succeeded.
type Outcome struct {
	Output []byte
	Errors []byte
}

// Cases runs every case directory directly under root (one holding config.yaml) as a
// subtest named after the directory, with the working directory set to it so that the
// case's relative paths resolve there, as kustomize resolves them from its
// kustomization's directory. run produces the case's Outcome, which AssertCase checks.
// It returns the number of cases and fails t when there is none.
func Cases(t *testing.T, root string, run func(t *testing.T) Outcome) int {
	t.Helper()
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		dir := filepath.Join(root, e.Name())
		if !e.IsDir() || !exists(t, filepath.Join(dir, ConfigFile)) {
			continue
		}
		n++
		t.Run(e.Name(), func(t *testing.T) {
			t.Chdir(dir)
			AssertCase(t, dir, run(t))
		})
	}
	if n == 0 {
		t.Fatalf("no case directory (one holding %s) under %s", ConfigFile, root)
	}
	return n
}

// AssertCase compares o with dir's expected.yaml and errors.txt, byte for byte. A
// successful case has expected.yaml (empty when the case prints nothing) and no
// errors.txt; a failing one has errors.txt, and expected.yaml only when it prints
// something besides. A case without its golden file fails, so that deleting one cannot
// make a case pass. With -update it writes the files o calls for and removes the other.
func AssertCase(t testing.TB, dir string, o Outcome) {
	t.Helper()
	failed := len(o.Errors) > 0
	files := []struct {
		name, what string
		got        []byte
		want       bool // the file must exist
	}{
		{ExpectedFile, "output", o.Output, !failed || len(o.Output) > 0},
		{ErrorsFile, "error output", o.Errors, failed},
	}
	for _, f := range files {
		path := filepath.Join(dir, f.name)
		switch {
		case *update && f.want:
			Write(t, path, f.got)
		case *update:
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Fatal(err)
			}
		case exists(t, path):
			Assert(t, path, f.got)
		case f.want:
			t.Errorf("%s is missing (run with -update to accept); the %s:\n%s", path, f.what, f.got)
		}
	}
}

func exists(t testing.TB, path string) bool {
	t.Helper()
	_, err := os.Stat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// Assert compares got with the file at path; with -update it writes got there instead.
func Assert(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		Write(t, path, got)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("output differs from %s (run with -update to accept):\n%s", path, Diff(string(want), string(got)))
	}
}

// Write writes a golden file, creating its directory.
func Write(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Diff is a short line diff: the first lines where want and got part, with context.
func Diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	var b strings.Builder
	from := max(0, i-3)
	for k := from; k < i; k++ {
		b.WriteString("  " + w[k] + "\n")
	}
	for k := i; k < min(len(w), i+10); k++ {
		b.WriteString("- " + w[k] + "\n")
	}
	for k := i; k < min(len(g), i+10); k++ {
		b.WriteString("+ " + g[k] + "\n")
	}
	return b.String()
}
