// Package env is the one description of what peruser's edges may read from the outside
// world: the directory relative paths are resolved against, environment variables,
// where warnings go, and whether the user directory is queried live. Package render
// and package directory take it as it is; tests pass their own.
package env

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Env is what a render may read from the outside world. Its zero value reads nothing:
// no variables, no warnings, paths as written.
type Env struct {
	// Dir is the directory relative file paths (snapshot, caFile, bindPasswordFile,
	// dockerConfigJSONFile) are resolved against: the working directory, which kustomize
	// sets to the kustomization's directory.
	Dir string
	// Getenv reads an environment variable (bindPasswordEnv, dockerConfigJSONEnv,
	// PERUSER_DIRECTORY_LIVE). Nil reads nothing.
	Getenv func(string) string
	// Stderr receives warnings. Nil discards them.
	Stderr io.Writer
	// Live queries spec.directory's server even when its snapshot file exists
	// (`krm-fn render --live`; PERUSER_DIRECTORY_LIVE=1 does the same).
	Live bool
}

// OS is the process's own environment, relative to its working directory.
func OS() Env {
	return Env{Dir: ".", Getenv: os.Getenv, Stderr: os.Stderr}
}

// Var reads the environment variable k; "" when it is unset or Getenv is nil.
func (e Env) Var(k string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(k)
}

// Warnf writes one "warning: …" line to Stderr, if there is one.
func (e Env) Warnf(format string, args ...any) {
	if e.Stderr != nil {
		fmt.Fprintf(e.Stderr, "warning: "+format+"\n", args...)
	}
}

// Path resolves p against Dir; absolute paths, "" and paths in an Env without Dir are
// returned as they are.
func (e Env) Path(p string) string {
	if p == "" || filepath.IsAbs(p) || e.Dir == "" {
		return p
	}
	return filepath.Join(e.Dir, p)
}
