package directory

import (
	"context"
	"errors"
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
