package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/harden"
)

// loadHardening reads a Hardening file (the --config flag).
func loadHardening(file string) (*v1alpha1.Hardening, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading --config: %w", err)
	}
	node, err := yaml.Parse(string(data))
	if err != nil {
		return nil, fmt.Errorf("%s: not valid YAML: %w", file, err)
	}
	h, err := decodeHardening(node)
	if err != nil {
		var l field.List
		if errors.As(err, &l) {
			return nil, l.WithSource(file, nil)
		}
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return h, nil
}

// decodeHardening turns a parsed Hardening document into the Go type, refusing fields it
// does not know (a misspelt exception must not be silently ignored).
func decodeHardening(node *yaml.RNode) (*v1alpha1.Hardening, error) {
	meta, _ := node.GetMeta()
	if meta.APIVersion != v1alpha1.APIVersion || meta.Kind != v1alpha1.HardeningKind {
		return nil, field.List{field.Errorf("", "must be apiVersion %s, kind %s (got %s %s)",
			v1alpha1.APIVersion, v1alpha1.HardeningKind, orNone(meta.APIVersion), orNone(meta.Kind))}
	}
	var raw any
	if err := node.YNode().Decode(&raw); err != nil {
		return nil, err
	}
	js, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("not representable as JSON (are all keys strings?): %w", err)
	}
	if errs := unknownFields(raw, reflect.TypeOf(v1alpha1.Hardening{}), ""); len(errs) > 0 {
		return nil, errs
	}
	var h v1alpha1.Hardening
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields() // unknownFields has said where; this guards against drift
	if err := dec.Decode(&h); err != nil {
		return nil, field.List{field.Errorf("", "%s", jsonProblem(err))}
	}
	if errs := h.Validate(); len(errs) > 0 {
		return nil, errs
	}
	return &h, nil
}

// unknownFields reports the keys of a decoded document that the Go type does not have,
// with their field paths and the fields that are accepted there.
func unknownFields(raw any, t reflect.Type, p field.Path) field.List {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var errs field.List
	switch t.Kind() {
	case reflect.Struct:
		m, ok := raw.(map[string]any)
		if !ok {
			return nil
		}
		known := map[string]reflect.Type{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			if name != "" && name != "-" {
				known[name] = t.Field(i).Type
				names = append(names, name)
			}
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := known[k]
			if !ok {
				errs = append(errs, field.Errorf(p.Key(k).String(), "unknown field (accepted here: %s)", strings.Join(names, ", ")))
				continue
			}
			errs = append(errs, unknownFields(m[k], ft, p.Key(k))...)
		}
	case reflect.Slice:
		items, _ := raw.([]any)
		for i, it := range items {
			errs = append(errs, unknownFields(it, t.Elem(), p.Index(i))...)
		}
	case reflect.Map:
		m, _ := raw.(map[string]any)
		for k, v := range m {
			errs = append(errs, unknownFields(v, t.Elem(), p.Key(k))...)
		}
	}
	return errs
}

// jsonProblem words encoding/json's errors as field errors.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s: must be %s, got %s", te.Field, te.Type, te.Value)
	}
	msg := err.Error()
	if m := unknownFieldRE.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s: unknown field", m[1])
	}
	return msg
}

var unknownFieldRE = regexp.MustCompile(`unknown field "([^"]+)"`)

func orNone(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

// options resolves the identity and converts the spec into harden.Options.
func (c *config) options(ctx context.Context, stderr io.Writer) (harden.Options, error) {
	base := "."
	if c.file != "" {
		base = filepath.Dir(c.file)
	}
	return optionsFor(ctx, c.spec, base, stderr)
}

// optionsFor is shared by the command line and the KRM transformer. Relative site paths
// are read from dir. Errors carry spec paths (spec.identity.uid).
func optionsFor(ctx context.Context, spec v1alpha1.HardeningSpec, dir string, stderr io.Writer) (harden.Options, error) {
	if errs := spec.Identity.Validate(field.Path("spec").Child("identity")); len(errs) > 0 {
		return harden.Options{}, errs
	}
	var id harden.Identity
	if spec.Identity.Site != "" {
		site := spec.Identity.Site
		if !filepath.IsAbs(site) {
			site = filepath.Join(dir, site)
		}
		var err error
		if id, err = siteIdentity(ctx, site, spec.Identity.User, spec.Identity.Namespace, stderr); err != nil {
			return harden.Options{}, err
		}
	} else {
		id = harden.ExplicitIdentity(spec.Identity)
	}
	return harden.FromSpec(spec, id), nil
}

// flagOf maps a Hardening spec path (as package harden reports it, without "spec.")
// to the flag that sets it.
var flagOf = []struct{ prefix, flag string }{
	{"identity.uid", "--uid"},
	{"identity.gid", "--gid"},
	{"identity.supplementalGroups", "--supplemental-groups"},
	{"identity.site", "--site"},
	{"identity.user", "--user"},
	{"identity.namespace", "--namespace"},
	{"lifetime", "--lifetime"},
	{"labels", "--label"},
	{"imagePullSecrets", "--image-pull-secret"},
	{"registryRewrites", "--registry-rewrite"},
	{"podTemplatePaths", "--pod-template-path"},
	{"exceptions.hostPathPrefixes", "--allow-host-path"},
	{"exceptions.volumeTypes", "--allow-volume-type"},
	{"identity", "--uid/--gid/--site"},
}

// describe names a spec path for the user: the flag when flags alone were used, the
// field of the --config file otherwise.
func (c *config) describe(p string) string {
	p = strings.TrimPrefix(p, "spec.")
	for _, f := range flagOf {
		if p == f.prefix || strings.HasPrefix(p, f.prefix+".") || strings.HasPrefix(p, f.prefix+"[") {
			if c.file == "" {
				return f.flag
			}
			return "spec." + p + " (" + f.flag + ")"
		}
	}
	return "spec." + p
}

// explain rewrites option errors from package harden into flag or file terms.
func (c *config) explain(err error) error {
	var l field.List
	if !errors.As(err, &l) {
		return err
	}
	out := make(field.List, len(l))
	for i, e := range l {
		e.Path = c.describe(e.Path)
		if c.file != "" {
			e.Source = c.file
		}
		out[i] = e
	}
	return out
}
