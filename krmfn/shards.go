package krmfn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/internal/env"
	"github.com/peruser-dev/peruser/internal/fnconfig"
	"github.com/peruser-dev/peruser/render"
	"github.com/peruser-dev/peruser/shard"
	"github.com/peruser-dev/peruser/spec"
)

// target is what one render reads: a checked Site, the part of it to render, and the
// environment its relative paths resolve in.
type target struct {
	doc  *spec.Document
	part shard.Part
	env  env.Env
}

// loadTarget reads path, a Site or a SiteShard. A SiteShard names its Site and its part
// (partFlag must then be empty) and the Site's relative paths resolve in the Site's
// folder; a Site renders partFlag, "" meaning all of it.
func loadTarget(path, partFlag string, stdin io.Reader, env env.Env) (*target, error) {
	data, path, err := readSiteFile(path, stdin)
	if err != nil {
		return nil, err
	}
	kind, node, err := spec.Kind(data, path)
	if err != nil {
		return nil, err
	}
	if kind == v1alpha1.SiteShardKind {
		if partFlag != "" {
			return nil, usageError{fmt.Sprintf("%s is a SiteShard, which names its own part: drop --part", path)}
		}
		sh, err := spec.ShardFromNodeAt(node, path, node, filepath.Dir(path))
		if err != nil {
			return nil, err
		}
		return shardTarget(sh, env), nil
	}
	doc, err := spec.NodeDocument(node, path)
	if err != nil {
		return nil, err
	}
	part, err := shard.Parse(partFlag)
	if err != nil {
		return nil, usageError{"--part: " + err.Error()}
	}
	if err := part.Check(doc.Site.ShardCount()); err != nil {
		return nil, fmt.Errorf("%s: --part %s: %w", path, partFlag, err)
	}
	return &target{doc: doc, part: part, env: env}, nil
}

// shardTarget renders the part a loaded SiteShard names, reading the Site's relative
// paths from the Site's own folder (a shard folder is not where the Site lives).
func shardTarget(sh *spec.Shard, env env.Env) *target {
	part, _ := sh.Config.Part() // checked by spec
	env.Dir = filepath.Dir(sh.Site.Source)
	return &target{doc: sh.Site, part: part, env: env}
}

// renderTo writes the target's objects to w (Run's buffer).
func (t *target) renderTo(ctx context.Context, w io.Writer) error {
	if err := render.PartTo(ctx, t.doc.Site, t.part, t.env, w); err != nil {
		return t.doc.Errors(err)
	}
	return nil
}

// runSplit is `krm-fn render --out-dir DIR SITE.yaml`: every part of a sharded site,
// rendered in one pass, as DIR/<part folder>/objects.yaml (for CI that pushes the
// render to Flux as an artifact). The folder is written whole or not at all.
func runSplit(ctx context.Context, path, dir string, env env.Env, stderr io.Writer) error {
	doc, err := spec.LoadDocument(path)
	if err != nil {
		return err
	}
	parts, err := render.Split(ctx, doc.Site, env)
	if err != nil {
		return doc.Errors(err)
	}
	files := map[string][]byte{}
	for p, b := range parts {
		files[filepath.Join(p.Folder(), "objects.yaml")] = b
	}
	if err := replaceDir(dir, files); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "krm-fn: render: wrote %d parts of site %s to %s\n", len(parts), doc.Site.Metadata.Name, dir)
	return nil
}

// replaceDir makes dir hold exactly files (relative path → content): they are written
// into a new folder beside dir, which then replaces dir, so a failure leaves the old
// folder as it was.
func replaceDir(dir string, files map[string][]byte) error {
	dir = filepath.Clean(dir)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		p := filepath.Join(tmp, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			return err
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	old := tmp + ".old"
	if _, err := os.Stat(dir); err == nil {
		if err := os.Rename(dir, old); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		_ = os.Rename(old, dir)
		return err
	}
	return os.RemoveAll(old)
}

// stdinName is what messages call a file read from stdin (`-`).
const stdinName = "stdin"

// readSiteFile reads the Site (or SiteShard) at path, or stdin for "-"; it returns the
// name messages give the file.
func readSiteFile(path string, stdin io.Reader) ([]byte, string, error) {
	if path == "-" {
		if stdin == nil {
			return nil, stdinName, errors.New("- (stdin) is not available here")
		}
		data, err := io.ReadAll(stdin)
		if err != nil {
			return nil, stdinName, fmt.Errorf("reading the site from stdin: %w", err)
		}
		return data, stdinName, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, path, fmt.Errorf("reading site: %w", err)
	}
	return data, path, nil
}

// loadSite loads and checks the Site at path, or from stdin for "-".
func loadSite(path string, stdin io.Reader) (*spec.Document, error) {
	if path != "-" {
		return spec.LoadDocument(path)
	}
	data, source, err := readSiteFile(path, stdin)
	if err != nil {
		return nil, err
	}
	return spec.ParseDocument(data, source)
}

// processShardConfig is the KRM function for a SiteShard functionConfig: the objects
// of the part it names, the whole site checked first. dir is the working directory
// (kustomize's and kpt's: the folder of the shard config).
func processShardConfig(ctx context.Context, cfg *functionConfig, env env.Env) (*spec.Document, []*yaml.RNode, error) {
	clean := cfg.node.Copy()
	fnconfig.Strip(clean)
	sh, err := spec.ShardFromNodeAt(clean, cfg.source(), cfg.origin.Doc, env.Dir)
	if err != nil {
		return nil, nil, err
	}
	t := shardTarget(sh, env)
	objs, err := render.Part(ctx, t.doc.Site, t.part, t.env)
	if err != nil {
		return nil, nil, t.doc.Errors(err)
	}
	return t.doc, objs, nil
}

// Argo CD Config Management Plugin parameters. Argo CD hands an Application's plugin
// parameters to the generate command as ARGOCD_APP_PARAMETERS (JSON) and as PARAM_<NAME>
// variables, and its plugin env entries as ARGOCD_ENV_<NAME>.
const (
	cmpParamConfig = "config"
	cmpParamPart   = "part"
	// ShardConfigFile is the SiteShard file of each part folder, which the plugin's
	// discovery looks for.
	ShardConfigFile = "peruser-shard.yaml"
)

// cmpParams reads the plugin parameters from the environment Argo CD sets: declared
// parameters first, then the Application's plugin env (ARGOCD_ENV_PERUSER_CONFIG,
// ARGOCD_ENV_PERUSER_PART). An unknown parameter is an error, so a typo never renders
// the wrong part.
func cmpParams(getenv func(string) string) (map[string]string, error) {
	known := []string{cmpParamConfig, cmpParamPart}
	out := map[string]string{}
	for _, k := range known {
		if v := getenv("ARGOCD_ENV_PERUSER_" + strings.ToUpper(k)); v != "" {
			out[k] = v
		}
	}
	if raw := getenv("ARGOCD_APP_PARAMETERS"); strings.TrimSpace(raw) != "" {
		var params []struct {
			Name   string            `json:"name"`
			String *string           `json:"string"`
			Array  []string          `json:"array"`
			Map    map[string]string `json:"map"`
		}
		if err := json.Unmarshal([]byte(raw), &params); err != nil {
			return nil, fmt.Errorf("ARGOCD_APP_PARAMETERS: not the JSON list Argo CD sends: %v", err)
		}
		for _, p := range params {
			if !slices.Contains(known, p.Name) {
				return nil, fmt.Errorf("plugin parameter %q: unknown (accepted: %s)", p.Name, strings.Join(known, ", "))
			}
			if p.String == nil || p.Array != nil || p.Map != nil {
				return nil, fmt.Errorf("plugin parameter %q: must be a string", p.Name)
			}
			out[p.Name] = *p.String
		}
	}
	for _, k := range known {
		if v := getenv("PARAM_" + strings.ToUpper(k)); v != "" {
			out[k] = v
		}
	}
	return out, nil
}

// runArgoCDPlugin is `krm-fn argocd-plugin generate`, the generate command of the Argo
// CD Config Management Plugin (deploy/argocd-cmp/plugin.yaml). It runs in the
// Application's source folder and renders, in order of preference: the file the
// `config` parameter names; the folder's SiteShard (peruser-shard.yaml); site.yaml.
func runArgoCDPlugin(ctx context.Context, args []string, stdout io.Writer, env env.Env) error {
	if len(args) != 1 || args[0] != "generate" {
		return usageError{"argocd-plugin takes one argument: generate (the command plugin.yaml runs)"}
	}
	params, err := cmpParams(env.Getenv)
	if err != nil {
		return err
	}
	config := params[cmpParamConfig]
	switch {
	case config != "" && filepath.IsAbs(config):
		return fmt.Errorf("plugin parameter config: %q must be relative to the Application's path", config)
	case config == "":
		config = "site.yaml"
		if _, err := os.Stat(filepath.Join(env.Dir, ShardConfigFile)); err == nil {
			config = ShardConfigFile
		}
	}
	t, err := loadTarget(filepath.Join(env.Dir, config), params[cmpParamPart], nil, env)
	var u usageError
	if errors.As(err, &u) {
		return errors.New(u.msg) // a parameter mistake, not a command-line one: no usage text
	}
	if err != nil {
		return err
	}
	return t.renderTo(ctx, stdout)
}

// siteFunctionAnnotation is the kustomize function annotation.
const siteFunctionAnnotation = "config.kubernetes.io/function"
