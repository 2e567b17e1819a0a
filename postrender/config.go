package postrender

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/harden"
	"github.com/peruser-dev/peruser/internal/env"
)

// hardener resolves spec's identity and builds the Hardener; the command line and the
// KRM transformer share it. Only the identity's shape is checked here, since it says
// whether to read a Site; every value is checked once, by harden.New. A relative site
// path is read from dir. Errors carry spec paths (spec.identity.uid).
func hardener(ctx context.Context, spec v1alpha1.HardeningSpec, dir string, env env.Env) (*harden.Hardener, error) {
	if errs := spec.Identity.Validate(field.Path("spec").Child("identity")); len(errs) > 0 {
		return nil, errs
	}
	id := harden.ExplicitIdentity(spec.Identity)
	if spec.Identity.Site != "" {
		var mounts v1alpha1.HardeningExceptions
		var err error
		if id, mounts, err = SiteIdentity(ctx, inDir(dir, spec.Identity.Site), spec.Identity.User, spec.Identity.Namespace, env); err != nil {
			return nil, err
		}
		// The site's mounts for this user are allowed as if listed with
		// --allow-host-path and --allow-volume-type.
		ex := &spec.Exceptions
		ex.HostPathPrefixes = append(slices.Clone(ex.HostPathPrefixes), mounts.HostPathPrefixes...)
		ex.VolumeTypes = slices.Clone(ex.VolumeTypes)
		for _, t := range mounts.VolumeTypes {
			if !slices.Contains(ex.VolumeTypes, t) {
				ex.VolumeTypes = append(ex.VolumeTypes, t)
			}
		}
	}
	return harden.New(spec, id)
}

// siteDir is where a relative site path is read from: the --config file's directory
// for a site the file names, dir (the working directory) for one given by --site.
func (c *config) siteDir(dir string) string {
	if c.file == "" || c.given["--site"] {
		return dir
	}
	return filepath.Dir(c.file)
}

// inDir is path read from dir when it is relative (the one rule of internal/env).
func inDir(dir, path string) string { return env.Env{Dir: dir}.Path(path) }

// flagOf maps a Hardening spec path to the flag that sets it: the one table of how the
// command line names the spec's fields.
var flagOf = []struct{ prefix, flag string }{
	{"spec.identity.uid", "--uid"},
	{"spec.identity.gid", "--gid"},
	{"spec.identity.supplementalGroups", "--supplemental-groups"},
	{"spec.identity.site", "--site"},
	{"spec.identity.user", "--user"},
	{"spec.identity.namespace", "--namespace"},
	{"spec.lifetime", "--lifetime"},
	{"spec.labels", "--label"},
	{"spec.imagePullSecrets", "--image-pull-secret"},
	{"spec.registryRewrites", "--registry-rewrite"},
	{"spec.podTemplatePaths", "--pod-template-path"},
	{"spec.exceptions.hostPathPrefixes", "--allow-host-path"},
	{"spec.exceptions.volumeTypes", "--allow-volume-type"},
	{"spec.dropInitContainers", "--drop-init-container"},
	{"spec.identity", "--uid/--gid/--site"},
}

// flagFor is the flag that sets spec path p (from flagOf), "" when none does.
func flagFor(p string) string {
	for _, f := range flagOf {
		if p == f.prefix || strings.HasPrefix(p, f.prefix+".") || strings.HasPrefix(p, f.prefix+"[") {
			return f.flag
		}
	}
	return ""
}

// describe names a spec path for the user: the flag when flags alone were used, the
// field of the --config file (and its flag) otherwise.
func (c *config) describe(p string) string {
	switch f := flagFor(p); {
	case f == "":
		return p
	case c.file == "":
		return f
	default:
		return p + " (" + f + ")"
	}
}

// identityGiven reports whether a flag that sets a field of the identity (a row of
// flagOf under spec.identity.) was given: any of them replaces the file's whole identity.
func identityGiven(given map[string]bool) bool {
	for _, f := range flagOf {
		if strings.HasPrefix(f.prefix, "spec.identity.") && given[f.flag] {
			return true
		}
	}
	return false
}

// fromFile reports whether the value at spec path p is the --config file's: no flag
// that sets it was given.
func (c *config) fromFile(p string) bool {
	if c.file == "" || c.lines == nil {
		return false
	}
	if strings.HasPrefix(p, "spec.identity") {
		return !identityGiven(c.given)
	}
	return !c.given[flagFor(p)]
}

// explain names the fields of errors about the spec in flag or file terms.
func (c *config) explain(err error) error {
	var l field.List
	if !errors.As(err, &l) {
		return err
	}
	out := make(field.List, len(l))
	for i, e := range l {
		if e.Source == "" { // errors about a file of their own (the site) keep theirs
			if c.fromFile(e.Path) {
				e.Line = c.lines(e.Path)
			}
			e.Path = c.describe(e.Path)
		}
		out[i] = e
	}
	return out.WithSource(c.file, nil)
}
