package postrender

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"

	specfile "github.com/peruser-dev/peruser/spec"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/harden"
	"github.com/peruser-dev/peruser/internal/buildinfo"
	"github.com/peruser-dev/peruser/internal/env"
	"github.com/peruser-dev/peruser/internal/fnconfig"
	"github.com/peruser-dev/peruser/internal/krmio"
	"github.com/peruser-dev/peruser/internal/ynode"
)

const krmUsage = `Usage: post-renderer krm < resource-list.yaml > resource-list.yaml

The KRM transformer (kustomize exec function, also what post-renderer does when run
without arguments on a ResourceList): hardens every item of the ResourceList on stdin.
Its configuration is the ResourceList's functionConfig, a peruser.dev/v1alpha1
Hardening; it takes no flags. See docs/post-renderer.md.
`

// runKRM is the KRM transformer: a ResourceList on stdin whose functionConfig is a
// Hardening; every item is hardened in place. This is how Argo CD users get the
// post-renderer's effect: kustomize inflates the chart with helmCharts: and runs this
// function from transformers:. kustomize does not show function results and a result
// of error severity does not fail the build, so problems are returned as an error,
// which makes the process exit non-zero with the message on stderr.
func runKRM(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env env.Env) int {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fmt.Fprint(stdout, krmUsage)
		return 0
	}
	if len(args) > 0 {
		fmt.Fprintf(stderr, "post-renderer krm: takes no arguments (the configuration is the ResourceList's functionConfig), got %q\n", args)
		return exitUsage
	}
	if buildinfo.ReaderIsTerminal(stdin) {
		fmt.Fprintln(stderr, "post-renderer krm: reads a ResourceList from stdin, which is a terminal: run it from kustomize (transformers:), or see post-renderer krm --help")
		return exitUsage
	}
	// Nothing reaches stdout when processing fails (krmio holds the output back).
	out, err := krmio.Execute(stdin, func(rl *framework.ResourceList) error {
		return hardenResourceList(ctx, rl, env)
	})
	if err != nil {
		fmt.Fprintf(stderr, "post-renderer (KRM): %v\n", err)
		var es harden.Errors
		if errors.As(err, &es) {
			return exitUnsafe
		}
		return exitUsage
	}
	if _, err := stdout.Write(out); err != nil {
		fmt.Fprintf(stderr, "post-renderer (KRM): writing stdout: %v\n", err)
		return exitUnsafe
	}
	return 0
}

func hardenResourceList(ctx context.Context, rl *framework.ResourceList, env env.Env) error {
	if rl.FunctionConfig == nil || rl.FunctionConfig.IsNilOrEmpty() {
		return fmt.Errorf("functionConfig is missing: this transformer takes a peruser.dev/v1alpha1 Hardening")
	}
	// Errors name the config's own file and line when it can be found (package
	// fnconfig); kustomize pipes the config with its keys sorted, so the ResourceList's
	// lines would mislead. Otherwise they say "functionConfig" and the field path.
	origin := fnconfig.Locate(rl.FunctionConfig, rl.Items, env.Dir)
	fc := configFile{source: "functionConfig", lines: specfile.Lines(origin.Doc)}
	if origin.Path != "" {
		fc.source = origin.Path
	}
	clean := rl.FunctionConfig.Copy()
	fnconfig.Strip(clean)
	hc, err := specfile.HardeningAt(clean, fc.source, origin.Doc)
	if err != nil {
		return fc.errors(err)
	}
	// Exec functions run in the kustomization's directory, so a relative site path
	// resolves next to the kustomization, as the user wrote it.
	h, err := hardener(ctx, hc.Spec, env.Dir, env)
	if err != nil {
		return fc.errors(err)
	}
	var errs harden.Errors
	for i, item := range rl.Items {
		_, derrs := h.Object(item.YNode())
		src := itemSource(item)
		if src == "" {
			src = fmt.Sprintf("items[%d]", i) // kustomize's helmCharts keeps no file name
		}
		for _, e := range derrs {
			e.Document, e.Source = i+1, src
		}
		errs = append(errs, derrs...)
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// configFile is the functionConfig's file (or "functionConfig") and its line index.
type configFile struct {
	source string
	lines  func(string) int
}

// errors names configuration errors as fields of the functionConfig, at their line.
func (c configFile) errors(err error) error {
	var l field.List
	if !errors.As(err, &l) {
		return fmt.Errorf("%s: %w", c.source, err)
	}
	return l.WithSource(c.source, c.lines) // errors about another file (the site) keep theirs
}

// itemSource names the file an item came from: the "# Source:" comment helm template
// writes (kustomize's helmCharts keeps it as a head comment), else kustomize's path
// annotation.
func itemSource(item *yaml.RNode) string {
	n := item.YNode()
	comments := n.HeadComment
	if n.Kind == yaml.MappingNode && len(n.Content) > 0 {
		comments += "\n" + n.Content[0].HeadComment
	}
	if src := harden.SourceComment(comments); src != "" {
		return src
	}
	if !ynode.Readable(item) {
		return ""
	}
	path, _, _ := kioutil.GetFileAnnotations(item)
	return path
}

// isResourceList reports whether a stream is a KRM ResourceList.
func isResourceList(in []byte) bool {
	return resourceListRE.Match(in) && bytes.Contains(in, []byte("config.kubernetes.io/v1"))
}

var resourceListRE = regexp.MustCompile(`(?m)^kind:\s*ResourceList\s*$`)
