package directory

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/identity"
)

func sampleSnapshot() *Snapshot {
	return NewSnapshot("site", SourceOf(dirSpec(func(d *v1alpha1.Directory) { d.Users.InGroups = []string{"k8s-users"} })), []User{
		{Name: "sam@example.edu", UID: 20003, GID: 30001, Groups: []identity.Group{{Name: "pzs0001", GID: 30001}}},
		{Name: "jane.doe", UID: 20002, GID: 20002, Groups: []identity.Group{{Name: "k8s-users", GID: 30200}, {Name: "pzs0001", GID: 30001}}},
		{Name: "nogroups", UID: 20005, GID: 20005},
	})
}

func TestSnapshotRoundTrip(t *testing.T) {
	s := sampleSnapshot()
	b, err := s.Marshal()
	require.NoError(t, err)
	assert.Contains(t, string(b), `kind: DirectorySnapshot
metadata:
  name: site
source:
  url: ldap://127.0.0.1:1
  users:
    baseDN: ou=People,dc=example,dc=org
    filter: (objectClass=posixAccount)
    inGroups:
    - k8s-users
`)
	assert.Contains(t, string(b), `users:
- name: jane.doe
  uid: 20002
  gid: 20002
  groups:
  - {name: k8s-users, gid: 30200}
  - {name: pzs0001, gid: 30001}
- name: nogroups
`, "sorted by name, one line per group")
	got, err := ParseSnapshot(b, "x.yaml")
	require.NoError(t, err)
	assert.Equal(t, s, got)
	again, err := got.Marshal()
	require.NoError(t, err)
	assert.Equal(t, string(b), string(again), "deterministic")
	assert.Empty(t, got.Matches(s.Source))
}

func TestSnapshotEmptyUsers(t *testing.T) {
	s := NewSnapshot("site", SourceOf(dirSpec(nil)), nil)
	b, err := s.Marshal()
	require.NoError(t, err)
	assert.Contains(t, string(b), "users: []\n")
	got, err := ParseSnapshot(b, "x.yaml")
	require.NoError(t, err)
	assert.Empty(t, got.Users)
}

func TestParseSnapshotRejects(t *testing.T) {
	base := `apiVersion: peruser.dev/v1alpha1
kind: DirectorySnapshot
metadata: {name: s}
source: {url: "ldap://x", users: {baseDN: "o=x", filter: "(a=b)"}, groups: {baseDN: "o=x", filter: "(a=b)"}, memberScheme: memberUid, attributes: {}}
`
	cases := map[string]struct{ doc, want string }{
		"wrong kind":      {`apiVersion: peruser.dev/v1alpha1` + "\nkind: Site\n", "want apiVersion: peruser.dev/v1alpha1, kind: DirectorySnapshot"},
		"unknown field":   {base + "users: []\npassword: x\n", `unknown field "password"`},
		"duplicate uid":   {base + "users: [{name: a, uid: 5, gid: 5}, {name: b, uid: 5, gid: 5}]\n", `users[1].uid: uid 5 of "b" is also the uid of "a"`},
		"duplicate name":  {base + "users: [{name: a, uid: 5, gid: 5}, {name: a, uid: 6, gid: 5}]\n", `users[1].name: duplicate user "a"`},
		"uid zero":        {base + "users: [{name: a, uid: 0, gid: 5}]\n", "users[0].uid: must be between 1"},
		"group gid zero":  {base + "users: [{name: a, uid: 1, gid: 5, groups: [{name: g, gid: 0}]}]\n", "users[0].groups[0].gid: must be between 1 and 2147483647, got 0"},
		"group no name":   {base + "users: [{name: a, uid: 1, gid: 5, groups: [{name: '', gid: 7}]}]\n", "users[0].groups[0].name: must not be empty"},
		"not yaml":        {"a: [", "not valid YAML"},
		"truncated":       {"", "want apiVersion: peruser.dev/v1alpha1, kind: DirectorySnapshot"},
		"string for uid":  {base + "users: [{name: a, uid: x, gid: 5}]\n", "not a DirectorySnapshot"},
		"empty name":      {base + "users: [{name: '', uid: 1, gid: 5}]\n", "users[0].name: must not be empty"},
		"user without id": {base + "users: [{name: a}]\n", "users[0].uid: must be between 1"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseSnapshot([]byte(tc.doc), "lock.yaml")
			require.Error(t, err)
			assert.Contains(t, err.Error(), "lock.yaml: ")
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestSnapshotMatches(t *testing.T) {
	s := sampleSnapshot()
	other := SourceOf(dirSpec(func(d *v1alpha1.Directory) { d.Users.Filter = "(objectClass=person)" }))
	diffs := s.Matches(other)
	assert.Contains(t, diffs, `users.filter is "(objectClass=posixAccount)" in the snapshot but "(objectClass=person)" in the site`)
	assert.Contains(t, diffs, `users.inGroups is "k8s-users" in the snapshot but "" in the site`)
}

// TestSnapshotRoundTripYAML11Words: names that a YAML 1.1 reader takes for booleans or
// numbers (a user "yes", a group "on", a user "1:20") survive a write and a read.
func TestSnapshotRoundTripYAML11Words(t *testing.T) {
	s := NewSnapshot("site", SourceOf(dirSpec(nil)), []User{
		{Name: "yes", UID: 20010, GID: 20010, Groups: []identity.Group{{Name: "on", GID: 30010}}},
		{Name: "1:20", UID: 20011, GID: 20011},
	})
	b, err := s.Marshal()
	require.NoError(t, err)
	got, err := ParseSnapshot(b, "lock.yaml")
	require.NoError(t, err, string(b))
	assert.Equal(t, s.Users, got.Users)
	assert.Contains(t, string(b), `name: "yes"`)
}

// TestSnapshotRecordsSkip: a snapshot taken with onInvalidRecord: skip answers another
// query than the same site with the default, fail, and round-trips that fact.
func TestSnapshotRecordsSkip(t *testing.T) {
	skip := SourceOf(dirSpec(func(d *v1alpha1.Directory) { d.OnInvalidRecord = v1alpha1.InvalidRecordSkip }))
	s := NewSnapshot("site", skip, nil)
	b, err := s.Marshal()
	require.NoError(t, err)
	got, err := ParseSnapshot(b, "lock.yaml")
	require.NoError(t, err)
	assert.Empty(t, got.Matches(skip))
	diffs := got.Matches(SourceOf(dirSpec(nil)))
	require.Len(t, diffs, 1)
	assert.Contains(t, diffs[0], `onInvalidRecord is "skip" in the snapshot but "fail" in the site`)
	assert.Empty(t, NewSnapshot("site", SourceOf(dirSpec(nil)), nil).Matches(SourceOf(dirSpec(func(d *v1alpha1.Directory) { d.OnInvalidRecord = v1alpha1.InvalidRecordFail }))))
}
