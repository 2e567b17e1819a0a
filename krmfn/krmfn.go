// Package krmfn is the krm-fn command line: with no arguments a kustomize KRM function
// (ResourceList on stdin, built on kyaml's fn/framework), and subcommands for CI and
// humans (`render SITE.yaml`). It only wires input and output to packages spec, render
// and generators; on any error it prints one line per problem on stderr and nothing on
// stdout.
package krmfn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/internal/crash"
	"github.com/peruser-dev/peruser/internal/env"
	"github.com/peruser-dev/peruser/render"
	"github.com/peruser-dev/peruser/spec"
)

// Run runs krm-fn with args (without the program name) and returns its exit code. A
// panic (a bug) becomes one "internal error" line and exit code 3, never a stack trace.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env env.Env) int {
	return crash.Guard("krm-fn", stderr, func() int { return run(ctx, args, stdin, stdout, stderr, env) })
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env env.Env) int {
	var out bytes.Buffer
	err := dispatch(ctx, args, stdin, &out, stderr, env)
	var u usageError
	if errors.As(err, &u) {
		fmt.Fprintf(stderr, "krm-fn: %s\n", u.msg) // one line: the usage is --help's
		return 2
	}
	if errors.As(err, new(errChanged)) {
		_, _ = stdout.Write(out.Bytes()) // diff.go: the summary, and exit code 4
		return exitChanged
	}
	if err != nil {
		reportError(stderr, err)
		writeFailedResourceList(stdout, err) // function mode only: function.go
		return 1
	}
	// Output is held back until everything succeeded: never a partial stream.
	if _, err := stdout.Write(out.Bytes()); err != nil {
		reportError(stderr, err)
		return 1
	}
	return 0
}

// usageError is a command-line mistake (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// renderArgs are the arguments of `render`.
type renderArgs struct {
	path, part, outDir string
	live               bool
}

// parseRenderArgs reads `render [--live] [--part P | --out-dir DIR] FILE`.
func parseRenderArgs(args []string) (renderArgs, error) {
	var ra renderArgs
	rest, err := parseFlags("render", args, map[string]*bool{"--live": &ra.live},
		map[string]*string{"--part": &ra.part, "--out-dir": &ra.outDir}) // commands.go
	if err != nil {
		return ra, err
	}
	if ra.path, err = oneSite("render", rest); err != nil {
		return ra, err
	}
	if ra.part != "" && ra.outDir != "" {
		return ra, usageError{"render: --part and --out-dir exclude each other (--out-dir writes every part)"}
	}
	return ra, nil
}

func runRender(ctx context.Context, ra renderArgs, stdin io.Reader, stdout io.Writer, env env.Env) error {
	t, err := loadTarget(ra.path, ra.part, stdin, env) // shards.go
	if err != nil {
		return err
	}
	// stdout is Run's buffer: nothing reaches the real stdout unless all of it succeeded.
	if err := t.renderTo(ctx, stdout); err != nil {
		return err
	}
	warn(env.Stderr, t.doc)
	return nil
}

// warn prints the site's warnings on stderr, with the file and line of each field.
func warn(stderr io.Writer, doc *spec.Document) {
	if stderr == nil {
		return
	}
	for _, w := range doc.Site.Warnings().WithSource(doc.Source, doc.Line).Sorted() {
		fmt.Fprintf(stderr, "krm-fn: warning: %s\n", w.Error())
	}
}

// runFunction is the KRM function (function.go): kustomize hands a generator only its
// own config; kpt hands a mutator the whole package, the config's own file included.
func runFunction(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, env env.Env) error {
	return executeFunction(stdin, stdout, env.Dir, func(rl *framework.ResourceList, cfg *functionConfig) error {
		return processResourceList(ctx, rl, cfg, env)
	})
}

// processResourceList renders the Site (or the SiteShard's part of its Site) of cfg and
// puts the objects in place of the ones an earlier run generated; every other item
// stays (see replaceOwned).
func processResourceList(ctx context.Context, rl *framework.ResourceList, cfg *functionConfig, env env.Env) error {
	var doc *spec.Document
	var objs []*yaml.RNode
	var err error
	if cfg.isShard() {
		doc, objs, err = processShardConfig(ctx, cfg, env) // shards.go
		if err != nil {
			return err
		}
	} else {
		if doc, err = cfg.load(); err != nil {
			return err
		}
		if objs, err = render.Site(ctx, doc.Site, env); err != nil {
			return doc.Errors(err)
		}
	}
	rl.Items = replaceOwned(rl.Items, doc.Site.Metadata.Name, objs, cfg)
	warn(env.Stderr, doc)
	return nil
}

func reportError(w io.Writer, err error) {
	var l field.List
	if errors.As(err, &l) {
		for _, e := range l {
			fmt.Fprintf(w, "krm-fn: error: %s\n", e.Error())
		}
		return
	}
	for _, line := range strings.Split(strings.TrimRight(err.Error(), "\n"), "\n") {
		fmt.Fprintf(w, "krm-fn: error: %s\n", line)
	}
}

// Main is the process entry point.
func Main() {
	os.Exit(Run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, env.OS()))
}
