package resolve_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/directory"
	"github.com/peruser-dev/peruser/identity"
	"github.com/peruser-dev/peruser/internal/env"
	_ "github.com/peruser-dev/peruser/internal/golden" // defines -update
	"github.com/peruser-dev/peruser/render"
	"github.com/peruser-dev/peruser/resolve"
	"github.com/peruser-dev/peruser/spec"
)

const lsstSite = `apiVersion: peruser.dev/v1alpha1
kind: Site
metadata: {name: lsst}
spec:
  users:
    - {name: oakley, uid: 20001, gid: 20001, profile: science}
  directory:
    url: ldap://127.0.0.1:1
    users: {baseDN: "ou=People,dc=example,dc=org"}
    groups: {baseDN: "ou=Groups,dc=example,dc=org"}
    minUsers: 3
  profiles:
    default: {quota: {pods: "5"}}
    science: {groups: [lsst-science], quota: {pods: "10"}}
    staff: {groups: [lsst-staff], quota: {pods: "20"}}
`

func loadSite(t *testing.T, doc string) *v1alpha1.Site {
	t.Helper()
	site, err := spec.Parse([]byte(doc), "site.yaml")
	require.NoError(t, err)
	return site
}

func snapshot(users ...directory.User) *directory.Snapshot {
	return directory.NewSnapshot("lsst", directory.Source{}, users)
}

func byName(users []identity.User) map[string]identity.User {
	m := map[string]identity.User{}
	for _, u := range users {
		m[u.Name] = u
	}
	return m
}

func TestDirectoryMergeInlineWinsAndProfilesByGroup(t *testing.T) {
	site := loadSite(t, lsstSite)
	data := snapshot(
		directory.User{Name: "oakley", UID: 99999, GID: 99999, Groups: []identity.Group{{Name: "lsst-staff", GID: 30100}}},
		directory.User{Name: "rubin", UID: 20010, GID: 20010, Groups: []identity.Group{{Name: "lsst-science", GID: 30101}, {Name: "lsst-staff", GID: 30100}}},
		directory.User{Name: "vera", UID: 20011, GID: 20011, Groups: []identity.Group{{Name: "lsst-science", GID: 30101}}},
		directory.User{Name: "guest", UID: 20012, GID: 20012},
	)
	users, err := resolve.Users(site, data.Identities(), nil)
	require.NoError(t, err)
	got := byName(users)
	require.Len(t, got, 4)
	// The inline entry wins whole: its uid and its profile, not the directory's.
	assert.Equal(t, int64(20001), got["oakley"].UID)
	assert.Empty(t, got["oakley"].Groups)
	assert.Equal(t, "science", got["oakley"].Profile)
	// Directory users: groups with GIDs from the directory; profile by group, the
	// first matching profile in name order (science before staff).
	assert.Equal(t, []identity.Group{{Name: "lsst-science", GID: 30101}, {Name: "lsst-staff", GID: 30100}}, got["rubin"].Groups)
	assert.Equal(t, "science", got["rubin"].Profile)
	assert.Equal(t, "science", got["vera"].Profile)
	assert.Equal(t, "default", got["guest"].Profile)
	assert.Equal(t, "user-guest", got["guest"].Namespace)
}

func TestDirectoryMinUsersAfterMerge(t *testing.T) {
	site := loadSite(t, lsstSite)
	// oakley is both inline and in the directory: two users in all, below minUsers 3.
	data := snapshot(
		directory.User{Name: "oakley", UID: 20001, GID: 20001},
		directory.User{Name: "vera", UID: 20011, GID: 20011},
	)
	users, err := resolve.Users(site, data.Identities(), nil)
	require.Error(t, err)
	assert.Nil(t, users)
	assert.Contains(t, err.Error(), "spec.directory.minUsers: only 2 users resolved (1 from the directory, 1 inline), fewer than minUsers 3: refusing to render a shrunken list")
}

func TestDirectoryDuplicateUIDAcrossSources(t *testing.T) {
	site := loadSite(t, lsstSite)
	data := snapshot(
		directory.User{Name: "vera", UID: 20011, GID: 20011},
		directory.User{Name: "impostor", UID: 20001, GID: 20001},
		directory.User{Name: "guest", UID: 20012, GID: 20012},
	)
	_, err := resolve.Users(site, data.Identities(), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `spec.directory: uid 20001 of "impostor" is also the uid of "oakley" (spec.users[0]): two users must never share a uid`)
}

func TestDirectoryUnreachableFailsClosed(t *testing.T) {
	site := loadSite(t, lsstSite)
	users, err := render.Users(context.Background(), site, env.Env{})
	require.Error(t, err)
	assert.Nil(t, users)
	assert.Contains(t, err.Error(), "spec.directory.url: cannot connect to ldap://127.0.0.1:1")
}
