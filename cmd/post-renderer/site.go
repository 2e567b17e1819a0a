package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/peruser-dev/peruser/harden"
	"github.com/peruser-dev/peruser/identity"
	"github.com/peruser-dev/peruser/render"
	"github.com/peruser-dev/peruser/resolve"
	"github.com/peruser-dev/peruser/spec"
)

// siteIdentity finds a user of a Site, by name or by namespace, resolved exactly as
// krm-fn resolves it (inline users, directory snapshot or LDAP, the same naming
// function), so the post-renderer's pods match the namespace krm-fn made for the user.
func siteIdentity(ctx context.Context, sitePath, user, namespace string, stderr io.Writer) (harden.Identity, error) {
	doc, err := spec.LoadDocument(sitePath)
	if err != nil {
		return harden.Identity{}, err
	}
	site := doc.Site
	// Relative paths in the site (directory snapshot, caFile) are read from the working
	// directory and secrets from the environment, exactly as krm-fn reads them.
	opts := render.OSEnv().ResolveOptions()
	opts.Stderr = stderr
	users, err := resolve.Users(ctx, site, opts)
	if err != nil {
		return harden.Identity{}, doc.Errors(err) // the site's file and line, as krm-fn reports them
	}
	for _, u := range users {
		if user != "" && u.Name == user || namespace != "" && u.Namespace == namespace {
			id := identityOf(u)
			// A site that turned Strict off for its runtime gets no Strict pods either.
			strict := site.Spec.Admission.StrictSupplementalGroups
			id.KeepGroupsPolicy = strict != nil && !*strict
			return id, nil
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
	return harden.Identity{}, fmt.Errorf("%s: no %s %q among the site's %d users (%s)", sitePath, what, key, len(users), strings.Join(known, ", "))
}

// identityOf is the pod identity of a user: their uid and primary gid, and as
// supplemental groups every group GID the site knows for them that is not a system
// group (< 1000).
func identityOf(u identity.User) harden.Identity {
	groups := []int64{}
	for _, g := range u.SupplementalGIDs() {
		if g >= harden.MinSupplementalGID {
			groups = append(groups, g)
		}
	}
	return harden.Identity{UID: u.UID, GID: u.GID, SupplementalGroups: groups}
}
