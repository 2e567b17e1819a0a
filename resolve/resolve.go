// Package resolve turns a Site into its list of users: inline users, merged with the
// directory (a snapshot file or live LDAP) where one is configured, each given a
// namespace by package naming and a profile by name or group membership. The result is
// sorted by namespace, so everything downstream is deterministic.
package resolve

import (
	"fmt"
	"io"
	"sort"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/identity"
	"github.com/peruser-dev/peruser/naming"
)

// Users resolves every user of site: its inline users and, when the site has
// spec.directory, the directory's users, which the caller loaded (package render, the
// edge, reads the snapshot or queries LDAP). It is pure but for warnings (users skipped
// under skipInvalidUsers) written to stderr, which may be nil. It never returns a
// partial list: any problem with any user is an error, and all such problems are
// reported together.
func Users(site *v1alpha1.Site, directoryUsers []identity.User, stderr io.Writer) ([]identity.User, error) {
	users, origins := collect(site, directoryUsers)
	if err := checkMerged(site, users, origins); err != nil {
		return nil, err
	}
	users, err := assignNamespaces(site, users, origins, stderr)
	if err != nil {
		return nil, err
	}
	profileNames := site.ProfileNames()
	for i := range users {
		users[i].Profile = pickProfile(site, profileNames, users[i])
	}
	sort.Slice(users, func(i, j int) bool { return users[i].Namespace < users[j].Namespace })
	return users, nil
}

// collect gathers users from every source; origins[i] says where users[i] came from,
// for error messages ("spec.users[3]", "directory").
func collect(site *v1alpha1.Site, directoryUsers []identity.User) ([]identity.User, []string) {
	users := make([]identity.User, 0, len(site.Spec.Users))
	origins := make([]string, 0, len(site.Spec.Users))
	for i, u := range site.Spec.Users {
		users = append(users, FromSpec(u))
		origins = append(origins, fmt.Sprintf("spec.users[%d]", i))
	}
	return withDirectory(site, directoryUsers, users, origins)
}

// FromSpec converts an inline user, its groups sorted by name as directory users' are.
func FromSpec(u v1alpha1.User) identity.User {
	id := u.Identity()
	sort.Slice(id.Groups, func(i, j int) bool { return id.Groups[i].Name < id.Groups[j].Name })
	return id
}

// ReservedNamespaces are the site's own namespaces, which no user may be given.
func ReservedNamespaces(site *v1alpha1.Site) []string {
	var r []string
	if site.Spec.Reapers.JobPodReaper.Enabled {
		r = append(r, site.Spec.Reapers.JobPodReaper.Namespace)
	}
	if cm := site.Spec.Admission.LDAPConfigMaps; cm != nil && cm.Namespace != "" {
		r = append(r, cm.Namespace)
	}
	r = append(r, site.Spec.NetworkPolicy.AllowNamespaces...)
	return r
}

// assignNamespaces names every user under the site's naming scheme. Users the scheme
// cannot name (an invalid name, a reserved one, two users meeting) are an error, or,
// with spec.namespace.skipInvalidUsers, left out with a warning each on stderr; the
// users kept are returned.
func assignNamespaces(site *v1alpha1.Site, users []identity.User, origins []string, stderr io.Writer) ([]identity.User, error) {
	names := make([]string, len(users))
	originOf := make(map[string]string, len(users))
	for i, u := range users {
		names[i] = u.Name
		if _, dup := originOf[u.Name]; !dup {
			originOf[u.Name] = origins[i]
		}
	}
	ns := site.Spec.Namespace
	assigned, conflicts := naming.Assign(naming.Scheme(ns.Naming), *ns.Prefix, names, ReservedNamespaces(site))
	if len(conflicts) > 0 && !ns.SkipInvalidUsers {
		errs := make(field.List, 0, len(conflicts))
		for _, c := range conflicts {
			if len(c.Users) == 1 {
				errs = append(errs, field.Errorf(originOf[c.Users[0]], "%s", c.Error()))
				continue
			}
			// Report at the second user, naming where the first one is.
			second := originOf[c.Users[1]]
			if c.Users[0] == c.Users[1] {
				second = origins[indexOfSecond(names, c.Users[0])]
			}
			errs = append(errs, field.Errorf(second, "%s (the first is %s)", c.Error(), originOf[c.Users[0]]))
		}
		return nil, errs
	}
	skip := make(map[string]bool)
	for _, c := range conflicts {
		for _, u := range c.Users {
			if !skip[u] && stderr != nil {
				fmt.Fprintf(stderr, "warning: %s: skipping user %q (spec.namespace.skipInvalidUsers): %s\n", originOf[u], u, c.Error())
			}
			skip[u] = true
		}
	}
	kept := users[:0]
	for i, u := range users {
		if skip[u.Name] {
			continue
		}
		u.Slug = assigned[i].Slug
		u.Namespace = assigned[i].Namespace
		kept = append(kept, u)
	}
	if d := site.Spec.Directory; d != nil && len(skip) > 0 && len(kept) < *d.MinUsers {
		return nil, field.List{field.Errorf(field.Path(directoryOrigin).Child("minUsers").String(),
			"only %d users left after skipping %d that naming %q cannot name, fewer than minUsers %d: refusing to render a shrunken list, which a GitOps engine would prune",
			len(kept), len(skip), ns.Naming, *d.MinUsers)}
	}
	return kept, nil
}

func indexOfSecond(names []string, n string) int {
	seen := false
	for i, v := range names {
		if v == n {
			if seen {
				return i
			}
			seen = true
		}
	}
	return 0
}

// pickProfile returns the profile for u: the one it names; else the first profile, in
// name order, one of whose groups u belongs to; else "default" when the site defines
// it; else "" (no quota or limits).
// names is site.ProfileNames(), sorted once per site rather than once per user.
func pickProfile(site *v1alpha1.Site, names []string, u identity.User) string {
	if u.Profile != "" {
		return u.Profile
	}
	member := make(map[string]bool, len(u.Groups))
	for _, g := range u.Groups {
		member[g.Name] = true
	}
	for _, n := range names {
		for _, g := range site.Spec.Profiles[n].Groups {
			if member[g] {
				return n
			}
		}
	}
	if _, ok := site.Spec.Profiles[v1alpha1.DefaultProfile]; ok {
		return v1alpha1.DefaultProfile
	}
	return ""
}
