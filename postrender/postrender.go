package postrender

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
	"github.com/peruser-dev/peruser/internal/env"
)

// Exit codes: 1 when the input cannot be hardened, 2 for a usage or configuration error,
// crash.ExitCode (3) for an internal error.
const (
	exitUnsafe = 1
	exitUsage  = 2
)

// Main is the process entry point. A panic (a bug) is one "internal error" line and
// exit code 3: run writes stdout only after everything succeeded, so nothing partial is
// left there.
func Main() {
	var msg bytes.Buffer
	stderr := io.MultiWriter(os.Stderr, &msg)
	code := Run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, stderr, env.OS())
	if code != 0 {
		echoToHelm4(msg.Bytes())
	}
	os.Exit(code)
}

// Run runs the post-renderer with args (without the program name) and returns its exit
// code. env says where relative paths (--config, --site and the site's own files) are
// read from and where the site's secrets come from.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env env.Env) int {
	return crash.Guard("post-renderer", stderr, func() int { return run(ctx, args, stdin, stdout, stderr, env) })
}

// terminalHint is the one line a bare command on a terminal prints instead of waiting.
const terminalHint = "post-renderer: reads manifests from stdin, which is a terminal: pipe them in (helm template … | post-renderer --uid N --gid N), or see post-renderer --help"

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env env.Env) int {
	env.Stderr = stderr // the site's warnings, with the rest of the messages
	if len(args) > 0 && args[0] == "version" {
		if len(args) > 1 {
			fmt.Fprintf(stderr, "post-renderer version: takes no arguments, got %q\n", args[1:])
			return exitUsage
		}
		fmt.Fprintln(stdout, buildinfo.Read().Line("post-renderer"))
		return 0
	}
	if len(args) > 0 && args[0] == "krm" {
		return runKRM(ctx, args[1:], stdin, stdout, stderr, env)
	}
	cfg, err := parseFlags(args, env.Dir, stdout)
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
		return runKRM(ctx, nil, bytes.NewReader(in), stdout, stderr, env)
	}
	if len(args) == 0 {
		fmt.Fprintln(stderr, "post-renderer: no identity given: pass --uid and --gid, or --site with --user or --namespace (-h for help);\nrun as a KRM function, it expects a ResourceList on stdin")
		return exitUsage
	}
	h, err := hardener(ctx, cfg.spec, cfg.siteDir(env.Dir), env)
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
