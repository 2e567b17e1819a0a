package krmfn

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/internal/buildinfo"
	"github.com/peruser-dev/peruser/internal/env"
)

// command is one subcommand. The top usage and each command's --help are written from
// this table, so a command's synopsis cannot drift between the two.
type command struct {
	name string
	// forms are the synopses after "krm-fn ", each with its description lines.
	forms []form
	// ownHelp: the command prints its own --help (flags the table does not list).
	ownHelp bool
	run     func(c call, args []string) error
}

type form struct {
	synopsis string
	summary  []string
}

// call is what a command runs with.
type call struct {
	ctx            context.Context
	stdin          io.Reader
	stdout, stderr io.Writer
	env            env.Env
}

func commands() []command {
	return []command{
		{name: "render", forms: []form{
			{"render SITE.yaml", []string{"print the rendered objects as a YAML stream (SITE.yaml may be -: stdin)"}},
			{"render --live SITE.yaml", []string{"the same, querying spec.directory even when its snapshot",
				"file exists (also PERUSER_DIRECTORY_LIVE=1)"}},
			{"render --part site|N SITE.yaml", []string{"one part of a sharded site (spec.sharding): the site-wide",
				"objects or shard N's users; the whole site is still checked.",
				"A SiteShard file (peruser-shard.yaml) names its own part"}},
			{"render --out-dir DIR SITE.yaml", []string{"every part of a sharded site as DIR/<part>/objects.yaml"}},
		}, run: func(c call, args []string) error {
			ra, err := parseRenderArgs(args)
			if err != nil {
				return err
			}
			c.env.Live = c.env.Live || ra.live
			if ra.outDir != "" {
				return runSplit(c.ctx, ra.path, ra.outDir, c.env, c.stderr) // shards.go
			}
			return runRender(c.ctx, ra, c.stdin, c.stdout, c.env)
		}},
		{name: "users", forms: []form{
			{"users [--output table|json] SITE.yaml", []string{"list the site's users as rendered: name, namespace, the",
				"peruser.dev/user label (slug), uid, gid, profile (SITE.yaml may be -)"}},
			{"users --departed-selector SITE.yaml", []string{"print the label selector of the per-user objects of users the",
				"site no longer renders (kubectl delete ... -l \"$(...)\")"}},
		}, run: func(c call, args []string) error { return runUsers(c, args) }}, // users.go
		{name: "shards", ownHelp: true, forms: []form{
			{"shards [flags] SITE.yaml DIR", []string{"write the shard layout of a sharded site: a kustomization per",
				"part, an Argo CD ApplicationSet, Flux Kustomizations",
				"(krm-fn shards --help lists the flags)"}},
		}, run: func(c call, args []string) error { return runShards(c.ctx, args, c.stdout, c.stderr, c.env) }}, // layout.go
		{name: "argocd-plugin", forms: []form{
			{"argocd-plugin generate", []string{"the Argo CD Config Management Plugin's generate command",
				"(parameters from the environment Argo CD sets; docs/gitops.md)"}},
		}, run: func(c call, args []string) error { return runArgoCDPlugin(c.ctx, args, c.stdout, c.env) }}, // shards.go
		{name: "snapshot", forms: []form{
			{"snapshot [--write] [--allow-removals] SITE.yaml", []string{"print the users spec.directory resolves to, as a",
				"DirectorySnapshot for spec.directory.snapshot (--write:",
				"replace that file atomically); refuses to drop more users",
				"than spec.directory.maxRemovals (default 10%) from the",
				"current snapshot unless --allow-removals; summary on stderr"}},
		}, run: func(c call, args []string) error { return runSnapshot(c.ctx, args, c.stdout, c.stderr, c.env) }}, // snapshot.go
		{name: "diff", forms: []form{
			{"diff OLD NEW", []string{"what changes for users between two Sites or snapshots",
				"(exit 0: nothing; 4: changes; one of them may be -)"}},
		}, run: func(c call, args []string) error { return runDiff(c.ctx, args, c.stdin, c.stdout, c.env) }}, // diff.go
		{name: "values", forms: []form{
			{"values CHART SITE.yaml", []string{"print Helm values matching the site for CHART: job-pod-reaper",
				"or k8-namespace-reaper (OSC's charts); SITE.yaml may be -"}},
		}, run: func(c call, args []string) error { return runValues(args, c.stdin, c.stdout) }}, // features.go
		{name: "ood-cluster", forms: []form{
			{"ood-cluster [--strict] SITE.yaml", []string{"print Open OnDemand's clusters.d file for its Kubernetes",
				"adapter; warns (--strict: fails) for users OOD cannot address",
				"(SITE.yaml may be -)"}},
		}, run: func(c call, args []string) error {
			return runOODCluster(c.ctx, args, c.stdin, c.stdout, c.stderr, c.env)
		}}, // features.go
		{name: "install", forms: []form{
			{"install DIR", []string{"copy this executable into DIR (for an Argo CD init container)"}},
		}, run: func(c call, args []string) error {
			if len(args) != 1 {
				return usageError{"install: DIR is required (exactly one argument: the directory to copy krm-fn into)"}
			}
			return runInstall(args[0], c.stdout)
		}},
		{name: "version", forms: []form{
			{"version", []string{"print the version, the VCS revision it was built from and the",
				"API version it reads (also --version)"}},
		}, run: func(c call, args []string) error {
			if len(args) > 0 {
				return usageError{"version takes no arguments"}
			}
			_, err := fmt.Fprintf(c.stdout, "%s, reads %s\n", buildinfo.Read().Line("krm-fn"), v1alpha1.APIVersion)
			return err
		}},
		{name: "help", forms: []form{
			{"help [COMMAND]", []string{"print this help, or COMMAND's (also -h, --help)"}},
		}, run: nil}, // dispatch handles it: it needs the table
	}
}

// lookup finds a command by name; --version and -h/--help are spellings of two of them.
func lookup(name string) (command, bool) {
	switch name {
	case "--version":
		name = "version"
	case "-h", "--help":
		name = "help"
	}
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

const summaryColumn = 28

func writeForms(b *strings.Builder, forms []form) {
	for _, f := range forms {
		line := "  krm-fn " + f.synopsis
		for i, s := range f.summary {
			if i == 0 && len(line) < summaryColumn {
				b.WriteString(line + strings.Repeat(" ", summaryColumn-len(line)) + s + "\n")
				continue
			}
			if i == 0 {
				b.WriteString(line + "\n")
			}
			b.WriteString(strings.Repeat(" ", summaryColumn) + s + "\n")
		}
	}
}

const usageFooter = `
Relative file paths in the Site are read from the working directory (kustomize sets
it to the kustomization's directory; for a Site on stdin, the directory krm-fn runs in).
On any error krm-fn prints one line per problem on stderr, exits 1 and prints nothing
on stdout (2: a usage error; 3: an internal error, a bug to report).
`

// topUsage is `krm-fn --help`.
func topUsage() string {
	var b strings.Builder
	b.WriteString("krm-fn renders per-user Kubernetes namespaces and their objects from a peruser Site.\n\nUsage:\n")
	writeForms(&b, []form{{"", []string{"run as a KRM function: ResourceList on stdin, objects on stdout",
		"(kustomize build --enable-alpha-plugins --enable-exec; without",
		"--enable-exec kustomize skips the function and renders nothing)"}}})
	for _, c := range commands() {
		writeForms(&b, c.forms)
	}
	b.WriteString(usageFooter)
	return b.String()
}

// commandUsage is `krm-fn COMMAND --help`.
func commandUsage(c command) string {
	var b strings.Builder
	b.WriteString("Usage:\n")
	writeForms(&b, c.forms)
	b.WriteString(usageFooter)
	return b.String()
}

// wantsHelp reports whether args ask for help (-h or --help before a "--").
func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "-h" || a == "--help" {
			return true
		}
	}
	return false
}

func dispatch(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env env.Env) error {
	if len(args) == 0 {
		if buildinfo.ReaderIsTerminal(stdin) {
			return usageError{"no arguments and stdin is a terminal: with no arguments krm-fn is a KRM function reading a ResourceList from stdin (run krm-fn --help for the commands)"}
		}
		return runFunction(ctx, stdin, stdout, stderr, env)
	}
	c, ok := lookup(args[0])
	if !ok {
		if strings.HasPrefix(args[0], "-") {
			return usageError{fmt.Sprintf("unknown flag %s (krm-fn takes a command first; run krm-fn --help)", args[0])}
		}
		return usageError{fmt.Sprintf("unknown command %q (run krm-fn --help for the commands)", args[0])}
	}
	rest := args[1:]
	if c.name == "help" {
		if len(rest) == 0 {
			_, err := io.WriteString(stdout, topUsage())
			return err
		}
		h, ok := lookup(rest[0])
		if !ok || len(rest) > 1 {
			return usageError{fmt.Sprintf("help: unknown command %q (run krm-fn --help for the commands)", strings.Join(rest, " "))}
		}
		if h.ownHelp {
			return h.run(call{ctx, stdin, stdout, stderr, env}, []string{"--help"})
		}
		_, err := io.WriteString(stdout, commandUsage(h))
		return err
	}
	if !c.ownHelp && wantsHelp(rest) {
		_, err := io.WriteString(stdout, commandUsage(c))
		return err
	}
	return c.run(call{ctx, stdin, stdout, stderr, env}, rest)
}

// parseFlags is the one flag parser of the commands: --name for the flags in bools,
// --name VALUE or --name=VALUE for those in values; anything else that starts with "-"
// is an unknown flag, except "-" itself (stdin); "--" ends the flags. It returns the
// operands in order.
func parseFlags(cmd string, args []string, bools map[string]*bool, values map[string]*string) ([]string, error) {
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(rest, args[i+1:]...), nil
		}
		if len(a) < 2 || a[0] != '-' {
			rest = append(rest, a)
			continue
		}
		name, value, hasValue := strings.Cut(a, "=")
		if b, ok := bools[name]; ok {
			if hasValue {
				return nil, usageError{fmt.Sprintf("%s: %s takes no value", cmd, name)}
			}
			*b = true
			continue
		}
		dst, ok := values[name]
		if !ok {
			var known []string
			for n := range bools {
				known = append(known, n)
			}
			for n := range values {
				known = append(known, n)
			}
			slices.Sort(known)
			return nil, usageError{fmt.Sprintf("%s: unknown flag %s (accepted: %s)", cmd, name, strings.Join(known, ", "))}
		}
		if !hasValue {
			if i+1 >= len(args) {
				return nil, usageError{fmt.Sprintf("%s: %s needs a value", cmd, name)}
			}
			i++
			value = args[i]
		}
		*dst = value
	}
	return rest, nil
}

// oneSite is the one operand of a command that reads a Site: a file, or - for stdin.
func oneSite(cmd string, operands []string) (string, error) {
	switch len(operands) {
	case 0:
		return "", usageError{cmd + ": SITE.yaml is required (a file, or - for stdin)"}
	case 1:
		return operands[0], nil
	}
	return "", usageError{fmt.Sprintf("%s takes one SITE.yaml, got a second: %s", cmd, operands[1])}
}
