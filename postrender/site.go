package postrender

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/generators"
	"github.com/peruser-dev/peruser/harden"
	"github.com/peruser-dev/peruser/identity"
	"github.com/peruser-dev/peruser/internal/env"
	"github.com/peruser-dev/peruser/render"
	"github.com/peruser-dev/peruser/spec"
)

// SiteIdentity finds a user of the Site at sitePath, by name or by namespace, resolved
// exactly as krm-fn resolves it (render.Users: inline users, directory snapshot or LDAP,
// the same naming function), so the post-renderer's pods match the namespace krm-fn
// made for the user. The identity's supplemental groups are all the user's groups
// (package harden drops system groups). The exceptions are the site's spec.mounts for
// that user: their hostPath directories and, when one is nfs, the nfs volume type
// (peruser-pod-restrictions checks the paths). Relative paths in the site are read
// from env.Dir, secrets through env.Getenv.
func SiteIdentity(ctx context.Context, sitePath, user, namespace string, env env.Env) (harden.Identity, v1alpha1.HardeningExceptions, error) {
	site, u, err := siteUser(ctx, sitePath, user, namespace, env)
	if err != nil {
		return harden.Identity{}, v1alpha1.HardeningExceptions{}, err
	}
	// A site that turned Strict off for its runtime gets no Strict pods either.
	strict := site.Spec.Admission.StrictSupplementalGroups
	id := harden.Identity{UID: u.UID, GID: u.GID, SupplementalGroups: u.SupplementalGIDs(), KeepGroupsPolicy: strict != nil && !*strict}
	return id, mountExceptions(site, u), nil
}

// mountExceptions are the post-renderer exceptions that admit user u's spec.mounts.
func mountExceptions(site *v1alpha1.Site, u identity.User) v1alpha1.HardeningExceptions {
	var ex v1alpha1.HardeningExceptions
	for _, m := range site.Spec.Mounts {
		if m.NFS != nil {
			if !slices.Contains(ex.VolumeTypes, "nfs") {
				ex.VolumeTypes = append(ex.VolumeTypes, "nfs")
			}
			continue
		}
		ex.HostPathPrefixes = append(ex.HostPathPrefixes, generators.MountPaths(m.HostPath.Path, u)...)
	}
	return ex
}

// siteUser loads the Site at sitePath and finds the user by name or by namespace.
func siteUser(ctx context.Context, sitePath, user, namespace string, env env.Env) (*v1alpha1.Site, identity.User, error) {
	doc, err := spec.LoadDocument(sitePath)
	if err != nil {
		return nil, identity.User{}, err
	}
	site := doc.Site
	// Relative paths in the site (directory snapshot, caFile) are read from env.Dir and
	// secrets through env.Getenv, exactly as krm-fn reads them.
	users, err := render.Users(ctx, site, env)
	if err != nil {
		return nil, identity.User{}, doc.Errors(err) // the site's file and line, as krm-fn reports them
	}
	for _, u := range users {
		if user != "" && u.Name == user || namespace != "" && u.Namespace == namespace {
			return site, u, nil
		}
	}
	what, key := "user", user
	known := make([]string, 0, len(users))
	for _, u := range users {
		if user != "" {
			known = append(known, u.Name)
		} else {
			known = append(known, u.Namespace)
		}
	}
	if user == "" {
		what, key = "namespace", namespace
	}
	sort.Strings(known)
	if len(known) > 10 {
		known = append(known[:10], fmt.Sprintf("… %d more", len(users)-10))
	}
	return nil, identity.User{}, fmt.Errorf("%s: no %s %q among the site's %d users (%s)", sitePath, what, key, len(users), strings.Join(known, ", "))
}
