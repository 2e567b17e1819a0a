package krmfn_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peruser-dev/peruser/internal/slapdtest"
)

// TestSnapshotRemovalGuard: a new snapshot that drops more users than maxRemovals
// from the current one is refused (the file stays byte for byte), the summary names
// who would lose access, and --allow-removals or a larger maxRemovals lets it through;
// --write replaces the file atomically.
func TestSnapshotRemovalGuard(t *testing.T) {
	t.Parallel() // waits on its own servers and processes; runs beside the package's other parallel tests
	slapdtest.Binaries(t)
	s := startFixtureSLAPD(t, slapdtest.Options{})
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ldap-ca.pem"), mustRead(t, s.CAFile), 0o644))
	pw := filepath.Join(dir, "ldap-password")
	require.NoError(t, os.WriteFile(pw, []byte("reader-secret\n"), 0o600))
	dirYAML := func(extra ...string) string {
		return directoryYAML(s.URL, append([]string{"startTLS: true", "caFile: ldap-ca.pem",
			"bindDN: cn=reader,ou=Services," + ldapSuffix, "bindPasswordFile: ldap-password",
			"snapshot: directory.lock.yaml"}, extra...)...)
	}
	site := writeSite(t, dir, ldapSite(dirYAML()))
	lock := filepath.Join(dir, "directory.lock.yaml")

	// The first snapshot: nothing to compare with.
	stdout, stderr, code := krm(t, dir, nil, "snapshot", "--write", site)
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, stdout, "--write prints nothing")
	current := string(mustRead(t, lock))
	require.Contains(t, current, "kind: DirectorySnapshot")

	// Pretend the current snapshot had three more users: the directory now returns
	// 4 of 7, so 3 would be removed — more than 10% of 7 (0, at least 1).
	grown := strings.TrimRight(current, "\n") + `
- {name: gone1, uid: 29001, gid: 29001}
- {name: gone2, uid: 29002, gid: 29002}
- {name: gone3, uid: 29003, gid: 29003}
`
	require.NoError(t, os.WriteFile(lock, []byte(grown), 0o644))
	stdout, stderr, code = krm(t, dir, nil, "snapshot", "--write", site)
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "krm-fn: snapshot: 7 users before, 4 after: 0 added, 3 removed, 0 changed")
	assert.Contains(t, stderr, "krm-fn: snapshot: - gone2 (uid 29002, gid 29002): the next sync revokes their access")
	assert.Contains(t, stderr, "spec.directory.maxRemovals: the new snapshot removes 3 of 7 users, more than maxRemovals 10% (1)")
	assert.Equal(t, grown, string(mustRead(t, lock)), "a refused snapshot leaves the file as it was")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.False(t, strings.HasPrefix(e.Name(), ".directory.lock.yaml"), "no temporary file left: %s", e.Name())
	}

	// Printing instead of writing is guarded the same way.
	stdout, _, code = krm(t, dir, nil, "snapshot", site)
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)

	// maxRemovals: 3 allows it; so does --allow-removals.
	roomy := writeSite(t, dir, ldapSite(dirYAML("maxRemovals: 3")))
	stdout, stderr, code = krm(t, dir, nil, "snapshot", roomy)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, current, stdout)
	_, stderr, code = krm(t, dir, nil, "snapshot", "--allow-removals", "--write", site)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "3 removed")
	assert.Equal(t, current, string(mustRead(t, lock)))
}
