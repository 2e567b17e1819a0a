package directory

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/internal/env"
)

// LiveEnv is the environment variable that forces a live lookup even when a snapshot
// file exists (also `krm-fn render --live`): for the CI job that refreshes snapshots,
// and for sites that knowingly render from LDAP.
const LiveEnv = "PERUSER_DIRECTORY_LIVE"

// Load returns the directory's users for a render of the site named site: from the
// snapshot file when spec.directory.snapshot names one that exists and no live lookup
// is forced (env.Live, or PERUSER_DIRECTORY_LIVE=1), else from the server. A snapshot taken
// with another query than the site's is an error, not stale data.
func Load(ctx context.Context, site string, d *v1alpha1.Directory, env env.Env) (*Snapshot, error) {
	live := env.Live || isTrue(env.Var(LiveEnv))
	if d.Snapshot != "" && !live {
		p := env.Path(d.Snapshot)
		snap, err := ReadSnapshot(p)
		switch {
		case err == nil:
			if diffs := snap.Matches(SourceOf(d)); len(diffs) > 0 {
				errs := field.List{}
				for _, diff := range diffs {
					errs = append(errs, field.Errorf(specPath.Child("snapshot").String(), "%s was taken for another query: %s", p, diff))
				}
				errs = append(errs, field.Errorf(specPath.Child("snapshot").String(),
					"refresh it with `krm-fn snapshot SITE.yaml > %s` (or set %s=1 to query the directory)", d.Snapshot, LiveEnv))
				return nil, errs
			}
			return snap, nil
		case errors.Is(err, fs.ErrNotExist):
			env.Warnf("spec.directory.snapshot: %s does not exist: querying %s live (write it with `krm-fn snapshot`)", p, d.URL)
		default:
			var errs field.List
			if errors.As(err, &errs) {
				return nil, errs // about the snapshot file, one line per problem
			}
			return nil, field.List{field.Errorf(specPath.Child("snapshot").String(), "%v", unwrapPathError(err))}
		}
	}
	snap, _, err := Fetch(ctx, site, d, env)
	return snap, err
}

// Fetch queries the directory: one connection, one bind, one paged search for users
// and one for groups, whatever the number of users.
func Fetch(ctx context.Context, site string, d *v1alpha1.Directory, env env.Env) (*Snapshot, Stats, error) {
	var stats Stats
	c, err := connect(ctx, d, env, &stats)
	if err != nil {
		return nil, stats, err
	}
	defer c.close()
	users, err := c.search(ctx, specPath.Child("users"), d.Users.BaseDN, d.Users.Filter, userAttributes(d))
	if err != nil {
		return nil, stats, err
	}
	groups, err := c.search(ctx, specPath.Child("groups"), d.Groups.BaseDN, d.Groups.Filter, groupAttributes(d))
	if err != nil {
		return nil, stats, err
	}
	if err := checkRanged(d, groups); err != nil {
		return nil, stats, err
	}
	res, err := Build(d, users, groups)
	if err != nil {
		return nil, stats, err
	}
	for _, s := range res.Skipped {
		env.Warnf("spec.directory: skipped %s (onInvalidRecord: skip)", s)
	}
	return NewSnapshot(site, SourceOf(d), res.Users), stats, nil
}

// LookupUser resolves one user by name without reading the whole directory, for
// tools that need a single identity (e.g. the post-renderer's --user). The name and
// every value taken from the directory are escaped before they enter a filter: a
// name such as `*)(uid=*` matches only a user of that literal name.
func LookupUser(ctx context.Context, d *v1alpha1.Directory, env env.Env, name string) (*User, Stats, error) {
	var stats Stats
	c, err := connect(ctx, d, env, &stats)
	if err != nil {
		return nil, stats, err
	}
	defer c.close()
	a := d.Attributes
	userFilter := fmt.Sprintf("(&%s(%s=%s))", d.Users.Filter, a.Name, ldap.EscapeFilter(name))
	users, err := c.search(ctx, specPath.Child("users"), d.Users.BaseDN, userFilter, userAttributes(d))
	if err != nil {
		return nil, stats, err
	}
	if len(users) == 0 {
		return nil, stats, field.List{field.Errorf(specPath.Child("users").String(), "no user named %q under %s matching %s", name, d.Users.BaseDN, d.Users.Filter)}
	}
	// The user's groups: by membership, by primary gid, and the groups that select users.
	var terms []string
	switch d.MemberScheme {
	case v1alpha1.MemberUID:
		terms = append(terms, fmt.Sprintf("(memberUid=%s)", ldap.EscapeFilter(name)))
	case v1alpha1.MemberDN:
		for _, u := range users {
			terms = append(terms, fmt.Sprintf("(member=%s)", ldap.EscapeFilter(u.DN)))
		}
	}
	for _, u := range users {
		if gid := u.GetEqualFoldAttributeValue(a.GID); gid != "" {
			terms = append(terms, fmt.Sprintf("(%s=%s)", a.GroupGID, ldap.EscapeFilter(gid)))
		}
	}
	for _, g := range d.Users.InGroups {
		terms = append(terms, fmt.Sprintf("(%s=%s)", a.GroupName, ldap.EscapeFilter(g)))
	}
	var groups []*ldap.Entry
	if len(terms) > 0 {
		filter := fmt.Sprintf("(&%s(|%s))", d.Groups.Filter, strings.Join(terms, ""))
		if groups, err = c.search(ctx, specPath.Child("groups"), d.Groups.BaseDN, filter, groupAttributes(d)); err != nil {
			return nil, stats, err
		}
	}
	if d.MemberScheme == v1alpha1.MemberOf {
		// memberOf holds DNs; each is read with the group filter, and only if it lies
		// under groups.baseDN, like the full search would find it.
		base := normalizeDN(d.Groups.BaseDN)
		for _, u := range users {
			for _, dn := range u.GetEqualFoldAttributeValues("memberOf") {
				if n := normalizeDN(dn); n != base && !strings.HasSuffix(n, "\x00"+base) {
					continue
				}
				req := ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, int(c.timeout.Seconds()), false,
					d.Groups.Filter, groupAttributes(d), nil)
				res, err := c.l.Search(req)
				stats.RoundTrips++
				stats.Pages++
				if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
					continue
				}
				if err != nil {
					return nil, stats, field.List{field.Errorf(specPath.Child("groups").String(), "reading group %s failed: %s", dn, searchError(err, c.timeout))}
				}
				groups = append(groups, res.Entries...)
			}
		}
	}
	groups = uniqueEntries(groups)
	if err := checkRanged(d, groups); err != nil {
		return nil, stats, err
	}
	res, err := Build(d, users, groups)
	if err != nil {
		return nil, stats, err
	}
	if len(res.Users) == 0 {
		return nil, stats, field.List{field.Errorf(specPath.Child("users").Child("inGroups").String(), "user %q is in none of the groups %s", name, strings.Join(d.Users.InGroups, ", "))}
	}
	u := res.Users[0]
	return &u, stats, nil
}

func uniqueEntries(es []*ldap.Entry) []*ldap.Entry {
	seen := map[string]bool{}
	out := es[:0]
	for _, e := range es {
		k := normalizeDN(e.DN)
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}

func userAttributes(d *v1alpha1.Directory) []string {
	attrs := []string{d.Attributes.Name, d.Attributes.UID, d.Attributes.GID}
	if d.MemberScheme == v1alpha1.MemberOf {
		attrs = append(attrs, "memberOf")
	}
	return attrs
}

func groupAttributes(d *v1alpha1.Directory) []string {
	attrs := []string{d.Attributes.GroupName, d.Attributes.GroupGID}
	switch d.MemberScheme {
	case v1alpha1.MemberUID:
		attrs = append(attrs, "memberUid")
	case v1alpha1.MemberDN:
		attrs = append(attrs, "member")
	}
	return attrs
}

// checkRanged refuses groups whose member list Active Directory split into ranges
// (member;range=0-1499 for groups above 1500 members): reading only the first range
// would silently drop members.
func checkRanged(d *v1alpha1.Directory, groups []*ldap.Entry) error {
	if d.MemberScheme != v1alpha1.MemberDN {
		return nil
	}
	var errs field.List
	for _, g := range groups {
		for _, at := range g.Attributes {
			if strings.HasPrefix(strings.ToLower(at.Name), "member;range=") {
				errs = append(errs, field.Errorf(specPath.Child("memberScheme").String(),
					"group %s has more members than the server returns at once (%s); use memberScheme: memberOf for such directories", g.DN, at.Name))
			}
		}
	}
	return errs.ErrOrNil()
}

func isTrue(s string) bool {
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	return err == nil && b
}
