package krmfn_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDiff: `krm-fn diff OLD NEW` between Sites and between snapshots; exit 0 for no
// change, 4 for changes, 1 (and nothing on stdout) for a broken side.
func TestDiff(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	write := func(name, body string) string {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
		return name
	}
	site := func(users string) string {
		return "apiVersion: peruser.dev/v1alpha1\nkind: Site\nmetadata: {name: s}\nspec:\n  profiles: {default: {}, staff: {}}\n  users:\n" + users
	}
	old := write("old.yaml", site("  - {name: oakley, uid: 20001, gid: 20001}\n  - {name: annie, uid: 20002, gid: 20002}\n"))
	new := write("new.yaml", site("  - {name: oakley, uid: 20001, gid: 20001, profile: staff}\n  - {name: zed, uid: 20009, gid: 20009}\n"))

	stdout, stderr, code := runCLI(t, nil, "diff", old, old)
	assert.Equal(t, 0, code, stderr)
	assert.Equal(t, "2 users before, 2 after: 0 added, 0 removed, 0 changed\n", stdout)

	stdout, stderr, code = runCLI(t, nil, "diff", old, new)
	assert.Equal(t, 4, code, stderr)
	assert.Equal(t, `2 users before, 2 after: 1 added, 1 removed, 1 changed
+ zed (uid 20009, gid 20009): gets a namespace and access
- annie (uid 20002, gid 20002): the next sync revokes their access; their namespace and data stay
~ oakley: profile default → staff
`, stdout)
	again, _, _ := runCLI(t, nil, "diff", old, new)
	assert.Equal(t, stdout, again, "deterministic")

	snap := func(users string) string {
		return "apiVersion: peruser.dev/v1alpha1\nkind: DirectorySnapshot\nmetadata: {name: s}\nsource:\n  url: ldaps://ldap.example.edu\n  users: {baseDN: 'ou=People', filter: '(objectClass=posixAccount)'}\n  groups: {baseDN: 'ou=Groups', filter: '(objectClass=posixGroup)'}\n  memberScheme: memberUid\n  attributes: {name: uid, uid: uidNumber, gid: gidNumber, groupName: cn, groupGID: gidNumber}\nusers:\n" + users
	}
	a := write("a.lock.yaml", snap("- {name: oakley, uid: 20001, gid: 20001, groups: [{name: p1, gid: 30001}]}\n"))
	b := write("b.lock.yaml", snap("- {name: oakley, uid: 20001, gid: 20001, groups: [{name: p2, gid: 30002}]}\n"))
	stdout, stderr, code = runCLI(t, nil, "diff", a, b)
	assert.Equal(t, 4, code, stderr)
	assert.Contains(t, stdout, "~ oakley: groups -p1, +p2\n")

	// A Site against a snapshot compares identities only.
	stdout, _, code = runCLI(t, nil, "diff", old, a)
	assert.Equal(t, 4, code)
	assert.Contains(t, stdout, "- annie")
	assert.Contains(t, stdout, "~ oakley: groups +p1\n")

	broken := write("broken.yaml", site("  - {name: oakley, uid: 0, gid: 20001}\n"))
	stdout, stderr, code = runCLI(t, nil, "diff", old, broken)
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "broken.yaml:7: spec.users[0].uid: must be ≥ 1, got 0")

	_, _, code = runCLI(t, nil, "diff", old)
	assert.Equal(t, 2, code)
}
