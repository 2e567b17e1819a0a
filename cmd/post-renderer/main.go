// Command post-renderer hardens Kubernetes YAML so that every pod runs as one user's
// POSIX identity and passes the Pod Security Standards "restricted" level. It serves
// three front-ends of package harden:
//
//   - Helm 3: helm install … --post-renderer post-renderer --post-renderer-args --uid=N …
//   - Helm 4: the plugin in plugins/helm4 runs it with the same arguments;
//   - kustomize / Argo CD: run without arguments (or as "post-renderer krm") it is a KRM
//     transformer whose functionConfig is a peruser.dev/v1alpha1 Hardening.
//
// "post-renderer --help" (and "post-renderer krm --help") print the usage on stdout;
// "post-renderer version" prints the build's version line (package buildinfo).
//
// See docs/post-renderer.md.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/peruser-dev/peruser/harden"
	"github.com/peruser-dev/peruser/internal/buildinfo"
	"github.com/peruser-dev/peruser/internal/crash"
)

// Exit codes: 1 when the input cannot be hardened, 2 for a usage or configuration error,
// crash.ExitCode (3) for an internal error.
const (
	exitUnsafe = 1
	exitUsage  = 2
)

func main() {
	var msg bytes.Buffer
	stderr := io.MultiWriter(os.Stderr, &msg)
	// A panic (a bug) is one "internal error" line and exit code 3: run writes stdout
	// only after everything succeeded, so nothing partial is left there.
	code := crash.Guard("post-renderer", stderr, func() int {
		return run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, stderr)
	})
	if code != 0 {
		echoToHelm4(msg.Bytes())
	}
	os.Exit(code)
}

// terminalHint is the one line a bare command on a terminal prints instead of waiting.
const terminalHint = "post-renderer: reads manifests from stdin, which is a terminal: pipe them in (helm template … | post-renderer --uid N --gid N), or see post-renderer --help"

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "version" {
		if len(args) > 1 {
			fmt.Fprintf(stderr, "post-renderer version: takes no arguments, got %q\n", args[1:])
			return exitUsage
		}
		fmt.Fprintln(stdout, buildinfo.Read().Line("post-renderer"))
		return 0
	}
	if len(args) > 0 && args[0] == "krm" {
		return runKRM(ctx, args[1:], stdin, stdout, stderr)
	}
	cfg, err := parseFlags(args, stdout)
	if errors.Is(err, errHelp) {
		return 0
	}
	if errors.Is(err, errVersion) {
		fmt.Fprintln(stdout, buildinfo.Read().Line("post-renderer"))
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "post-renderer: %v\n", err)
		return exitUsage
	}
	if buildinfo.ReaderIsTerminal(stdin) {
		fmt.Fprintln(stderr, terminalHint)
		return exitUsage
	}
	in, err := io.ReadAll(stdin)
	if err != nil {
		fmt.Fprintf(stderr, "post-renderer: reading stdin: %v\n", err)
		return exitUsage
	}
	if len(args) == 0 && isResourceList(in) {
		// kustomize runs exec functions without arguments.
		return runKRM(ctx, nil, bytes.NewReader(in), stdout, stderr)
	}
	if len(args) == 0 {
		fmt.Fprintln(stderr, "post-renderer: no identity given: pass --uid and --gid, or --site with --user or --namespace (-h for help);\nrun as a KRM function, it expects a ResourceList on stdin")
		return exitUsage
	}
	opts, err := cfg.options(ctx, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "post-renderer: %v\n", cfg.explain(err))
		return exitUsage
	}
	h, err := harden.New(opts)
	if err != nil {
		fmt.Fprintf(stderr, "post-renderer: %v\n", cfg.explain(err))
		return exitUsage
	}
	out, stats, err := h.Stream(in)
	if err != nil {
		var es harden.Errors
		if errors.As(err, &es) {
			fmt.Fprintf(stderr, "post-renderer: %d problem(s), nothing was written:\n%v\n", es.Len(), err)
		} else {
			fmt.Fprintf(stderr, "post-renderer: %v\n", err)
		}
		return exitUnsafe
	}
	if len(bytes.TrimSpace(out)) == 0 {
		// Helm 4 treats empty post-renderer output as a failure; a stream without
		// documents stays without documents, but says so.
		out = append(out, "# peruser post-renderer: no documents\n"...)
	}
	if _, err := stdout.Write(out); err != nil {
		fmt.Fprintf(stderr, "post-renderer: writing stdout: %v\n", err)
		return exitUnsafe
	}
	if cfg.verbose {
		fmt.Fprintf(stderr, "post-renderer: %d documents, %d hardened\n", stats.Documents, stats.Rewritten)
	}
	return 0
}
