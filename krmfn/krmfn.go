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
	"runtime/debug"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/internal/crash"
	"github.com/peruser-dev/peruser/render"
	"github.com/peruser-dev/peruser/spec"
)

const usage = `krm-fn renders per-user Kubernetes namespaces and their objects from a peruser Site.

Usage:
  krm-fn                    run as a KRM function: ResourceList on stdin, objects on stdout
                            (kustomize build --enable-alpha-plugins --enable-exec)
  krm-fn render SITE.yaml   print the rendered objects as a YAML stream
  krm-fn render --live SITE.yaml
                            the same, querying spec.directory even when its snapshot
                            file exists (also PERUSER_DIRECTORY_LIVE=1)
  krm-fn render --part site|N SITE.yaml
                            one part of a sharded site (spec.sharding): the site-wide
                            objects or shard N's users; the whole site is still checked.
                            A SiteShard file (peruser-shard.yaml) names its own part
  krm-fn render --out-dir DIR SITE.yaml
                            every part of a sharded site as DIR/<part>/objects.yaml
  krm-fn shards [flags] SITE.yaml DIR
                            write the shard layout of a sharded site: a kustomization per
                            part, an Argo CD ApplicationSet, Flux Kustomizations
                            (krm-fn shards --help lists the flags)
  krm-fn argocd-plugin generate
                            the Argo CD Config Management Plugin's generate command
  krm-fn snapshot [--write] [--allow-removals] SITE.yaml
                            print the users spec.directory resolves to, as a
                            DirectorySnapshot for spec.directory.snapshot (--write:
                            replace that file atomically); refuses to drop more users
                            than spec.directory.maxRemovals (default 10%) from the
                            current snapshot unless --allow-removals; summary on stderr
  krm-fn diff OLD NEW       what changes for users between two Sites or snapshots
                            (exit 0: nothing; 4: changes)
  krm-fn values CHART SITE.yaml
                            print Helm values matching the site for CHART: job-pod-reaper
                            or k8-namespace-reaper (OSC's charts)
  krm-fn ood-cluster [--strict] SITE.yaml
                            print Open OnDemand's clusters.d file for its Kubernetes
                            adapter; warns (--strict: fails) for users OOD cannot address
  krm-fn install DIR        copy this executable into DIR (for an Argo CD init container)
  krm-fn version            print the version and the API version it reads
  krm-fn help               print this help

Relative file paths in the Site are read from the working directory (kustomize sets
it to the kustomization's directory). On any error krm-fn prints one line per problem
on stderr, exits 1 and prints nothing on stdout (2: a usage error; 3: an internal
error, a bug to report).
`

// Run runs krm-fn with args (without the program name) and returns its exit code. A
// panic (a bug) becomes one "internal error" line and exit code 3, never a stack trace.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env render.Env) int {
	return crash.Guard("krm-fn", stderr, func() int { return run(ctx, args, stdin, stdout, stderr, env) })
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env render.Env) int {
	var out bytes.Buffer
	err := dispatch(ctx, args, stdin, &out, stderr, env)
	var u usageError
	if errors.As(err, &u) {
		fmt.Fprintf(stderr, "krm-fn: %s\n\n%s", u.msg, usage)
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

func dispatch(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env render.Env) error {
	if len(args) == 0 {
		return runFunction(ctx, stdin, stdout, stderr, env)
	}
	switch args[0] {
	case "render":
		ra, err := parseRenderArgs(args[1:])
		if err != nil {
			return err
		}
		env.Live = env.Live || ra.live
		if ra.outDir != "" {
			return runSplit(ctx, ra.path, ra.outDir, env, stderr) // shards.go
		}
		return runRender(ctx, ra, stdout, env)
	case "shards":
		return runShards(ctx, args[1:], stdout, stderr, env) // layout.go
	case "argocd-plugin":
		return runArgoCDPlugin(ctx, args[1:], stdout, env) // shards.go
	case "snapshot":
		return runSnapshot(ctx, args[1:], stdout, stderr, env) // snapshot.go
	case "diff":
		return runDiff(ctx, args[1:], stdout, env) // diff.go
	case "install":
		if len(args) != 2 {
			return usageError{"install takes exactly one argument: the directory to copy krm-fn into"}
		}
		return runInstall(args[1], stdout)
	case "values":
		return runValues(args[1:], stdout) // features.go
	case "ood-cluster":
		return runOODCluster(ctx, args[1:], stdout, stderr, env) // features.go
	case "version", "--version":
		_, err := fmt.Fprintf(stdout, "krm-fn %s (%s)\n", version(), v1alpha1.APIVersion)
		return err
	case "help", "-h", "--help":
		_, err := io.WriteString(stdout, usage)
		return err
	}
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}

// renderArgs are the arguments of `render`.
type renderArgs struct {
	path, part, outDir string
	live               bool
}

// parseRenderArgs reads `render [--live] [--part P | --out-dir DIR] FILE`.
func parseRenderArgs(args []string) (renderArgs, error) {
	var ra renderArgs
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(a, "=")
		switch {
		case a == "--live":
			ra.live = true
		case name == "--part" || name == "--out-dir":
			if !hasValue {
				if i+1 >= len(args) {
					return ra, usageError{fmt.Sprintf("render: %s needs a value", name)}
				}
				i++
				value = args[i]
			}
			if name == "--part" {
				ra.part = value
			} else {
				ra.outDir = value
			}
		case len(a) > 1 && a[0] == '-':
			return ra, usageError{fmt.Sprintf("render: unknown flag %s (accepted: --live, --part, --out-dir)", a)}
		case ra.path != "":
			return ra, usageError{"render takes exactly one site file"}
		default:
			ra.path = a
		}
	}
	if ra.path == "" {
		return ra, usageError{"render takes exactly one argument: the site file"}
	}
	if ra.part != "" && ra.outDir != "" {
		return ra, usageError{"render: --part and --out-dir exclude each other (--out-dir writes every part)"}
	}
	return ra, nil
}

func runRender(ctx context.Context, ra renderArgs, stdout io.Writer, env render.Env) error {
	t, err := loadTarget(ra.path, ra.part, env) // shards.go
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
func runFunction(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, env render.Env) error {
	return executeFunction(stdin, stdout, env.Dir, func(rl *framework.ResourceList, cfg *functionConfig) error {
		return processResourceList(ctx, rl, cfg, env)
	})
}

// processResourceList renders the Site (or the SiteShard's part of its Site) of cfg and
// puts the objects in place of the ones an earlier run generated; every other item
// stays (see replaceOwned).
func processResourceList(ctx context.Context, rl *framework.ResourceList, cfg *functionConfig, env render.Env) error {
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

// version is the module version the binary was built from (`go install …@v0.1.0`), or
// "devel" for a build from a checkout.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// Main is the process entry point.
func Main() {
	os.Exit(Run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, render.OSEnv()))
}
