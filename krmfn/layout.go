package krmfn

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/internal/env"
	"github.com/peruser-dev/peruser/render"
	"github.com/peruser-dev/peruser/shard"
	"github.com/peruser-dev/peruser/spec"
)

// layoutOptions are the flags of `krm-fn shards`.
type layoutOptions struct {
	repoURL, revision, repoPath string
	argoMode, argoNamespace     string
	project                     string
	ociURL, fluxNamespace       string
	execPath                    string
}

// RecommendedUsersPerShard keeps one shard's `kustomize build` under 10 s on a small
// machine: kustomize's cost grows with the square of the objects (docs/gitops.md).
const RecommendedUsersPerShard = 100

const shardsUsage = `usage: krm-fn shards [flags] SITE.yaml DIR

Writes the shard layout of a sharded Site (spec.sharding.shards) into DIR:
  DIR/parts/site/, DIR/parts/shard-NNN/   kustomization.yaml + peruser-shard.yaml each
  DIR/argocd/applicationset.yaml          with --repo-url
  DIR/flux/kustomizations.yaml            with --oci-url
Flags:
  --repo-url URL         git repository Argo CD reads DIR from
  --revision REV         its revision (default HEAD)
  --repo-path PATH       DIR's path inside that repository (default: DIR as given)
  --argocd-mode MODE     plugin (the peruser Config Management Plugin; default) or kustomize
  --argocd-namespace NS  namespace of the ApplicationSet (default argocd)
  --project NAME         Argo CD project (default default)
  --oci-url URL          OCI artifact CI pushes the rendered parts to (krm-fn render --out-dir)
  --flux-namespace NS    namespace of the Flux objects (default flux-system)
  --exec-path PATH       krm-fn for the kustomize exec function, relative to the current
                         folder (default: the Site's own config.kubernetes.io/function)
`

func parseShardsArgs(args []string) (opts layoutOptions, site, dir string, err error) {
	opts = layoutOptions{revision: "HEAD", argoMode: "plugin", argoNamespace: "argocd", project: "default", fluxNamespace: "flux-system"}
	flags := map[string]*string{
		"--repo-url": &opts.repoURL, "--revision": &opts.revision, "--repo-path": &opts.repoPath,
		"--argocd-mode": &opts.argoMode, "--argocd-namespace": &opts.argoNamespace, "--project": &opts.project,
		"--oci-url": &opts.ociURL, "--flux-namespace": &opts.fluxNamespace, "--exec-path": &opts.execPath,
	}
	rest, err := parseFlags("shards", args, nil, flags) // commands.go
	if err != nil {
		return opts, "", "", err
	}
	if len(rest) != 2 {
		return opts, "", "", usageError{"shards: SITE.yaml and DIR are required (two arguments: the site file and the layout folder; krm-fn shards --help)"}
	}
	if opts.argoMode != "plugin" && opts.argoMode != "kustomize" {
		return opts, "", "", usageError{fmt.Sprintf("shards: --argocd-mode is %q; accepted: plugin, kustomize", opts.argoMode)}
	}
	return opts, rest[0], rest[1], nil
}

// runShards is `krm-fn shards SITE.yaml DIR`: check the whole site, then write its
// shard layout (every file at once, or nothing) and a summary on stderr.
func runShards(ctx context.Context, args []string, stdout, stderr io.Writer, env env.Env) error {
	for _, a := range args {
		if a == "-h" || a == "--help" {
			_, err := io.WriteString(stdout, shardsUsage)
			return err
		}
	}
	opts, sitePath, dir, err := parseShardsArgs(args)
	if err != nil {
		return err
	}
	doc, err := spec.LoadDocument(sitePath)
	if err != nil {
		return err
	}
	site := doc.Site
	n := site.ShardCount()
	if n == 0 {
		return doc.Errors(fieldError("spec.sharding", "not set: set spec.sharding.shards (about one shard per %d users) before writing a layout", RecommendedUsersPerShard))
	}
	users, err := render.Users(ctx, site, env)
	if err != nil {
		return doc.Errors(err)
	}
	if opts.repoURL != "" && opts.repoPath == "" {
		if filepath.IsAbs(dir) {
			return usageError{"shards: DIR is absolute: give its path inside the repository with --repo-path"}
		}
		opts.repoPath = filepath.ToSlash(filepath.Clean(dir))
	}
	files, err := layoutFiles(site, sitePath, dir, opts)
	if err != nil {
		return err
	}
	if err := writeLayout(dir, files); err != nil {
		return err
	}
	counts := make([]int, n)
	for _, u := range users {
		counts[shard.Of(u.Name, n)]++
	}
	lo, hi := counts[0], counts[0]
	for _, c := range counts {
		lo, hi = min(lo, c), max(hi, c)
	}
	fmt.Fprintf(stderr, "krm-fn: shards: site %s: %d users in %d shards (%d to %d per shard) and the site part, written to %s\n",
		site.Metadata.Name, len(users), n, lo, hi, dir)
	if hi > RecommendedUsersPerShard && opts.argoMode == "kustomize" {
		fmt.Fprintf(stderr, "krm-fn: shards: warning: a shard holds %d users; kustomize builds of more than about %d users take longer than Argo CD allows: raise spec.sharding.shards\n", hi, RecommendedUsersPerShard)
	}
	if lo == 0 {
		fmt.Fprintf(stderr, "krm-fn: shards: warning: a shard has no users; Argo CD refuses to sync an empty Application (allowEmpty: false), which keeps it safe but shows it failing: lower spec.sharding.shards\n")
	}
	if opts.repoURL == "" {
		fmt.Fprintf(stderr, "krm-fn: shards: no --repo-url: argocd/ not written\n")
	}
	if opts.ociURL == "" {
		fmt.Fprintf(stderr, "krm-fn: shards: no --oci-url: flux/ not written\n")
	}
	return nil
}

func fieldError(path, format string, args ...any) error {
	return field.List{field.Errorf(path, format, args...)}
}

// layoutFiles is the layout as files relative to DIR. It is a pure function of the site,
// the paths and the options, so writing a layout twice gives the same bytes.
func layoutFiles(site *v1alpha1.Site, sitePath, dir string, opts layoutOptions) (map[string][]byte, error) {
	name := site.Metadata.Name
	n := site.ShardCount()
	absSite, err := filepath.Abs(sitePath)
	if err != nil {
		return nil, err
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	fn, err := shardFunction(site, sitePath, opts.execPath)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, p := range shard.All(n) {
		folder := filepath.Join(absDir, "parts", p.Folder())
		rel, err := filepath.Rel(folder, absSite)
		if err != nil {
			return nil, err
		}
		cfg := map[string]any{
			"apiVersion": v1alpha1.APIVersion,
			"kind":       v1alpha1.SiteShardKind,
			"metadata":   map[string]any{"name": name + "-" + p.Folder()},
			"spec": map[string]any{
				"siteFile": filepath.ToSlash(rel), "siteName": name, "part": p.String(), "shards": n,
			},
		}
		if fn != nil {
			annotation, err := fn(folder)
			if err != nil {
				return nil, err
			}
			cfg["metadata"].(map[string]any)["annotations"] = map[string]any{siteFunctionAnnotation: annotation}
		}
		header := fmt.Sprintf("# Part %s of site %s, written by `krm-fn shards`: do not edit, write the layout again.\n", p, name)
		files[filepath.Join("parts", p.Folder(), ShardConfigFile)] = yamlFile(header, cfg)
		files[filepath.Join("parts", p.Folder(), "kustomization.yaml")] = yamlFile(header, map[string]any{
			"apiVersion": "kustomize.config.k8s.io/v1beta1",
			"kind":       "Kustomization",
			"generators": []string{ShardConfigFile},
		})
	}
	if opts.repoURL != "" {
		files[filepath.Join("argocd", "applicationset.yaml")] = yamlFile(
			"# One Argo CD Application per part folder; written by `krm-fn shards`.\n", applicationSet(name, opts))
	}
	if opts.ociURL != "" {
		files[filepath.Join("flux", "kustomizations.yaml")] = fluxObjects(name, n, opts)
	}
	return files, nil
}

// shardFunction returns, for the kustomize path, the function annotation of a part
// folder: the Site's own exec function with its path rebased to that folder (or
// --exec-path). Without either it returns nil: the plugin path needs no annotation.
func shardFunction(site *v1alpha1.Site, sitePath, execPath string) (func(folder string) (string, error), error) {
	exe := ""
	switch {
	case execPath != "":
		abs, err := filepath.Abs(execPath)
		if err != nil {
			return nil, err
		}
		exe = abs
	case site.Metadata.Annotations[siteFunctionAnnotation] != "":
		var fn struct {
			Exec *struct {
				Path string `yaml:"path"`
			} `yaml:"exec"`
		}
		if err := yaml.Unmarshal([]byte(site.Metadata.Annotations[siteFunctionAnnotation]), &fn); err != nil || fn.Exec == nil || fn.Exec.Path == "" {
			return nil, fmt.Errorf("%s: metadata.annotations[%q]: not an exec function; give the krm-fn path for the shard folders with --exec-path", sitePath, siteFunctionAnnotation)
		}
		exe = fn.Exec.Path
		if !filepath.IsAbs(exe) {
			abs, err := filepath.Abs(filepath.Join(filepath.Dir(sitePath), exe))
			if err != nil {
				return nil, err
			}
			exe = abs
		}
	default:
		return nil, nil
	}
	return func(folder string) (string, error) {
		rel, err := filepath.Rel(folder, exe)
		if err != nil {
			return "", err
		}
		rel = filepath.ToSlash(rel)
		if !strings.HasPrefix(rel, ".") {
			rel = "./" + rel
		}
		return "exec:\n  path: " + rel + "\n", nil
	}, nil
}

func applicationSet(site string, o layoutOptions) map[string]any {
	source := map[string]any{"repoURL": o.repoURL, "targetRevision": o.revision, "path": "{{.path.path}}"}
	if o.argoMode == "plugin" {
		source["plugin"] = map[string]any{"name": "peruser"}
	}
	return map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "ApplicationSet",
		"metadata":   map[string]any{"name": site, "namespace": o.argoNamespace},
		"spec": map[string]any{
			"goTemplate":        true,
			"goTemplateOptions": []string{"missingkey=error"},
			"generators": []any{map[string]any{"git": map[string]any{
				"repoURL": o.repoURL, "revision": o.revision,
				"directories": []any{map[string]any{"path": strings.TrimSuffix(o.repoPath, "/") + "/parts/*"}},
			}}},
			// Deleting the ApplicationSet (or a part folder) must never delete what its
			// Applications made: users' namespaces and data stay.
			"syncPolicy": map[string]any{"preserveResourcesOnDeletion": true},
			"template": map[string]any{
				"metadata": map[string]any{
					"name":   site + "-{{.path.basename}}",
					"labels": map[string]any{"peruser.dev/site": site},
				},
				"spec": map[string]any{
					"project":     o.project,
					"source":      source,
					"destination": map[string]any{"server": "https://kubernetes.default.svc"},
					"syncPolicy": map[string]any{
						// allowEmpty: false (Argo CD's default, written out): an empty
						// render is refused rather than pruning a whole shard.
						"automated":   map[string]any{"prune": true, "selfHeal": true, "allowEmpty": false},
						"syncOptions": []string{"ServerSideApply=true"},
					},
				},
			},
		},
	}
}

func fluxObjects(site string, n int, o layoutOptions) []byte {
	var b bytes.Buffer
	b.WriteString("# Flux objects for the rendered parts CI pushes with `flux push artifact`; written by `krm-fn shards`.\n")
	b.Write(yamlFile("", map[string]any{
		"apiVersion": "source.toolkit.fluxcd.io/v1",
		"kind":       "OCIRepository",
		"metadata":   map[string]any{"name": site + "-rendered", "namespace": o.fluxNamespace},
		"spec":       map[string]any{"interval": "5m", "url": o.ociURL, "ref": map[string]any{"tag": "latest"}},
	}))
	for _, p := range shard.All(n) {
		ks := map[string]any{
			"interval":  "10m",
			"sourceRef": map[string]any{"kind": "OCIRepository", "name": site + "-rendered"},
			"path":      "./" + p.Folder(),
			// prune: true is what revokes a departed user's access; their Namespace and
			// data carry kustomize.toolkit.fluxcd.io/prune: disabled and stay.
			"prune": true,
		}
		if !p.Site {
			ks["dependsOn"] = []any{map[string]any{"name": site + "-site"}}
		}
		b.WriteString("---\n")
		b.Write(yamlFile("", map[string]any{
			"apiVersion": "kustomize.toolkit.fluxcd.io/v1",
			"kind":       "Kustomization",
			"metadata":   map[string]any{"name": site + "-" + p.Folder(), "namespace": o.fluxNamespace},
			"spec":       ks,
		}))
	}
	return b.Bytes()
}

// yamlFile renders v (maps are written with sorted keys) after a comment header.
func yamlFile(header string, v any) []byte {
	out, err := yaml.Marshal(v)
	if err != nil {
		panic(err) // only maps, slices and scalars: cannot fail
	}
	return append([]byte(header), out...)
}

// writeLayout replaces DIR/parts, DIR/argocd and DIR/flux with files, after checking
// that DIR/parts holds only part folders an earlier run wrote: a folder of anything
// else there is refused rather than deleted.
func writeLayout(dir string, files map[string][]byte) error {
	parts := filepath.Join(dir, "parts")
	entries, err := os.ReadDir(parts)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(parts, e.Name(), ShardConfigFile)); err != nil {
			return fmt.Errorf("%s: not a part folder written by krm-fn shards (no %s): move it away or choose another folder", filepath.Join(parts, e.Name()), ShardConfigFile)
		}
	}
	bySub := map[string]map[string][]byte{"parts": {}, "argocd": {}, "flux": {}}
	for name, b := range files {
		sub, rest, _ := strings.Cut(filepath.ToSlash(name), "/")
		bySub[sub][rest] = b
	}
	for _, sub := range []string{"parts", "argocd", "flux"} {
		if len(bySub[sub]) == 0 {
			continue
		}
		if err := replaceDir(filepath.Join(dir, sub), bySub[sub]); err != nil {
			return err
		}
	}
	return nil
}
