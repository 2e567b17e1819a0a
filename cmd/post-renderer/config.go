package main

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/harden"
)

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
		var ex v1alpha1.HardeningExceptions
		if id, ex, err = siteIdentity(ctx, site, spec.Identity.User, spec.Identity.Namespace, stderr); err != nil {
			return harden.Options{}, err
		}
		// The site's mounts for this user are allowed as if listed with
		// --allow-host-path and --allow-volume-type.
		spec.Exceptions.HostPathPrefixes = append(slices.Clone(spec.Exceptions.HostPathPrefixes), ex.HostPathPrefixes...)
		for _, t := range ex.VolumeTypes {
			if !slices.Contains(spec.Exceptions.VolumeTypes, t) {
				spec.Exceptions.VolumeTypes = append(slices.Clone(spec.Exceptions.VolumeTypes), t)
			}
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
	{"dropInitContainers", "--drop-init-container"},
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
		if e.Source == "" { // errors about another file (the site) keep their own
			e.Path = c.describe(e.Path)
			if c.file != "" {
				e.Source = c.file
			}
		}
		out[i] = e
	}
	return out
}
