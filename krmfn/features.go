package krmfn

import (
	"context"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/generators"
	"github.com/peruser-dev/peruser/internal/env"
	"github.com/peruser-dev/peruser/render"
)

// runValues prints the Helm values of one reaper chart for the site: `krm-fn values
// job-pod-reaper|k8-namespace-reaper SITE.yaml`.
func runValues(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) != 2 {
		return usageError{fmt.Sprintf("values takes two arguments: the chart (%s or %s) and the site file",
			generators.ChartJobPodReaper, generators.ChartNamespaceReaper)}
	}
	chart, path := args[0], args[1]
	if chart != generators.ChartJobPodReaper && chart != generators.ChartNamespaceReaper {
		return usageError{fmt.Sprintf("values: unknown chart %q (known: %s, %s)", chart, generators.ChartJobPodReaper, generators.ChartNamespaceReaper)}
	}
	doc, err := loadSite(path, stdin) // shards.go
	if err != nil {
		return err
	}
	values, err := generators.ReaperValues(doc.Site, chart)
	if err != nil {
		return fmt.Errorf("%s: %w", doc.Source, err)
	}
	return writeDocument(stdout, values)
}

// runOODCluster prints Open OnDemand's clusters.d file for the site: `krm-fn
// ood-cluster [--strict] SITE.yaml`. It resolves the site's users as a render does, to
// find those whose namespace OOD cannot address (see generators.OODNamespaceMismatches):
// a warning each, or with --strict an error.
func runOODCluster(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, env env.Env) error {
	strict := false
	var rest []string
	for _, a := range args {
		switch a {
		case "--strict":
			strict = true
		default:
			if strings.HasPrefix(a, "-") && a != "-" {
				return usageError{fmt.Sprintf("ood-cluster: unknown flag %q (known: --strict)", a)}
			}
			rest = append(rest, a)
		}
	}
	if len(rest) != 1 {
		return usageError{"ood-cluster takes exactly one argument: the site file (and optionally --strict)"}
	}
	path := rest[0]
	doc, err := loadSite(path, stdin) // shards.go
	if err != nil {
		return err
	}
	cluster, err := generators.OODCluster(doc.Site)
	if err != nil {
		return fmt.Errorf("%s: %w", doc.Source, err)
	}
	users, err := render.Users(ctx, doc.Site, env)
	if err != nil {
		return doc.Errors(err)
	}
	mismatches := generators.OODNamespaceMismatches(doc.Site, users)
	var errs field.List
	for _, m := range mismatches {
		msg := fmt.Sprintf("user %q: OOD will use namespace %q (namespace_prefix + username with '.' and '@' replaced by '-'), but under naming %q the user's namespace is %q; "+
			"OOD's Kubernetes adapter cannot be given another name, so this user cannot run OOD apps on this cluster: use spec.namespace.naming: ood (docs/generators.md, Open OnDemand)",
			m.User.Name, m.OODNamespace, doc.Site.Spec.Namespace.Naming, m.User.Namespace)
		if strict {
			errs = append(errs, field.Error{Source: path, Message: msg})
		} else {
			fmt.Fprintf(stderr, "krm-fn: warning: %s: %s\n", path, msg)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	for _, note := range generators.OODMountNotes(doc.Site) {
		fmt.Fprintf(stderr, "krm-fn: note: %s: %s\n", path, note)
	}
	return writeDocument(stdout, cluster)
}

// writeDocument writes one YAML document, comments included.
func writeDocument(w io.Writer, n *yaml.RNode) error {
	s, err := n.String()
	if err != nil {
		return fmt.Errorf("writing YAML: %w", err)
	}
	_, err = io.WriteString(w, s)
	return err
}
