package directory_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/directory"
	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/internal/env"
	"github.com/peruser-dev/peruser/internal/golden"
	"github.com/peruser-dev/peruser/internal/slapdtest"
)

const suffix = slapdtest.DefaultSuffix

// fixtureServer is one slapd with fixtures/ldap loaded, shared by the tests that
// only read from it.
var (
	fixtureOnce sync.Once
	fixture     *slapdtest.Server
)

func fixtureSLAPD(t *testing.T) *slapdtest.Server {
	t.Helper()
	slapdtest.Binaries(t) // skip (or fail under PERUSER_REQUIRE_TOOLS=1) before starting anything
	fixtureOnce.Do(func() {
		fixture = slapdtest.Start(&onceTB{T: t}, slapdtest.Options{
			LDIFFiles: []string{slapdtest.Fixture("directory.ldif"), slapdtest.Fixture("broken.ldif")},
		})
	})
	if fixture == nil {
		t.Fatal("the fixture slapd did not start (see the first test's output)")
	}
	return fixture
}

// onceTB lets the shared server outlive the test that started it: its cleanups run
// when the test binary exits (TestMain), not when that first test ends.
type onceTB struct{ *testing.T }

var (
	cleanupsMu sync.Mutex
	cleanups   []func()
)

func (o *onceTB) Cleanup(f func()) {
	cleanupsMu.Lock()
	defer cleanupsMu.Unlock()
	cleanups = append(cleanups, f)
}

func (o *onceTB) TempDir() string {
	dir, err := os.MkdirTemp("", "slapdtest-")
	if err != nil {
		o.Fatal(err)
	}
	o.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	cleanupsMu.Lock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	cleanupsMu.Unlock()
	os.Exit(code)
}

// liveSpec is a defaulted, validated directory spec for s.
func liveSpec(t *testing.T, s *slapdtest.Server, mut func(d *v1alpha1.Directory)) *v1alpha1.Directory {
	t.Helper()
	d := &v1alpha1.Directory{
		URL:    s.URL,
		Users:  v1alpha1.UserSearch{DirectorySearch: v1alpha1.DirectorySearch{BaseDN: "ou=People," + suffix}},
		Groups: v1alpha1.DirectorySearch{BaseDN: "ou=Groups," + suffix},
	}
	if mut != nil {
		mut(d)
	}
	d.Default()
	require.Empty(t, d.Validate("spec.directory"))
	return d
}

func testEnv(vars map[string]string) (env.Env, *bytes.Buffer) {
	var stderr bytes.Buffer
	return env.Env{Dir: ".", Getenv: func(k string) string { return vars[k] }, Stderr: &stderr}, &stderr
}

func fetch(t *testing.T, d *v1alpha1.Directory, vars map[string]string) (*directory.Snapshot, directory.Stats, string, error) {
	t.Helper()
	env, stderr := testEnv(vars)
	snap, stats, err := directory.Fetch(context.Background(), "test", d, env)
	return snap, stats, stderr.String(), err
}

// The fixtures record the same memberships three ways; every scheme must agree.
func TestLiveMemberSchemesAgree(t *testing.T) {
	s := fixtureSLAPD(t)
	schemes := map[string]string{
		"memberUid": "ou=Groups," + suffix,
		"member":    "ou=NamedGroups," + suffix,
		"memberOf":  "ou=Groups," + suffix,
	}
	var first []byte
	for _, scheme := range []string{"memberUid", "member", "memberOf"} {
		t.Run(scheme, func(t *testing.T) {
			d := liveSpec(t, s, func(d *v1alpha1.Directory) {
				d.MemberScheme = scheme
				d.Groups = v1alpha1.DirectorySearch{BaseDN: schemes[scheme], Filter: "(gidNumber=*)"}
			})
			snap, stats, stderr, err := fetch(t, d, nil)
			require.NoError(t, err)
			assert.Empty(t, stderr)
			assert.Equal(t, 2, stats.Pages, "one page of users, one of groups")
			assert.Equal(t, 2, stats.RoundTrips, "anonymous: no bind")
			users := onlyUsers(t, snap)
			if first == nil {
				first = users
				golden.Assert(t, filepath.Join("testdata", "fixture-users.yaml"), users)
				return
			}
			assert.Equal(t, string(first), string(users))
		})
	}
}

// onlyUsers is the snapshot with a fixed source, so golden files do not depend on
// the port or the scheme.
func onlyUsers(t *testing.T, snap *directory.Snapshot) []byte {
	t.Helper()
	fixed := *snap
	fixed.Source = directory.Source{URL: "ldap://slapd"}
	b, err := fixed.Marshal()
	require.NoError(t, err)
	return b
}

func TestLiveSelectByGroupAndProfiles(t *testing.T) {
	s := fixtureSLAPD(t)
	d := liveSpec(t, s, func(d *v1alpha1.Directory) { d.Users.InGroups = []string{"k8s-users"} })
	snap, _, _, err := fetch(t, d, nil)
	require.NoError(t, err)
	var names []string
	for _, u := range snap.Users {
		names = append(names, u.Name)
	}
	assert.Equal(t, []string{"jane.doe", "oakley", "sam@example.edu"}, names, "ana_lopez is not in k8s-users")
}

func TestLivePagedSearch(t *testing.T) {
	s := fixtureSLAPD(t)
	d := liveSpec(t, s, func(d *v1alpha1.Directory) { d.PageSize = 1 })
	snap, stats, _, err := fetch(t, d, nil)
	require.NoError(t, err)
	assert.Len(t, snap.Users, 4)
	// Users: 4 entries + ou=People itself does not match; 4 pages of one user plus a
	// last empty page at most; groups likewise.
	assert.GreaterOrEqual(t, stats.Pages, 8)
	big := liveSpec(t, s, nil)
	snapBig, _, _, err := fetch(t, big, nil)
	require.NoError(t, err)
	assert.Equal(t, snapBig.Users, snap.Users, "page size changes the cost, never the answer")
}

func TestLiveBindAndTLS(t *testing.T) {
	s := fixtureSLAPD(t)
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "password")
	require.NoError(t, os.WriteFile(pwFile, []byte("reader-secret\n"), 0o600))
	wrongCA, err := slapdtest.NewCA("some other CA")
	require.NoError(t, err)
	wrongCAFile := filepath.Join(dir, "wrong-ca.pem")
	require.NoError(t, os.WriteFile(wrongCAFile, wrongCA.CertPEM, 0o600))
	reader := "cn=reader,ou=Services," + suffix
	secret := map[string]string{"LDAP_PASSWORD": "reader-secret"}

	ok := []struct {
		name string
		mut  func(d *v1alpha1.Directory)
		vars map[string]string
		warn string
	}{
		{"anonymous", nil, nil, ""},
		{"bind with env password", func(d *v1alpha1.Directory) { d.BindDN, d.BindPasswordEnv = reader, "LDAP_PASSWORD" }, secret, ""},
		{"bind with password file", func(d *v1alpha1.Directory) { d.BindDN, d.BindPasswordFile = reader, pwFile }, nil, ""},
		{"ldaps with caFile", func(d *v1alpha1.Directory) { d.URL, d.CAFile = s.LDAPSURL, s.CAFile }, nil, ""},
		{"ldaps by host name", func(d *v1alpha1.Directory) {
			d.URL, d.CAFile = strings.Replace(s.LDAPSURL, "127.0.0.1", "localhost", 1), s.CAFile
		}, nil, ""},
		{"startTLS with caFile and bind", func(d *v1alpha1.Directory) {
			d.StartTLS, d.CAFile, d.BindDN, d.BindPasswordEnv = true, s.CAFile, reader, "LDAP_PASSWORD"
		}, secret, ""},
		{"insecureSkipVerify warns", func(d *v1alpha1.Directory) { d.URL, d.InsecureSkipVerify = s.LDAPSURL, true }, nil,
			"warning: spec.directory.insecureSkipVerify: the certificate of " + s.LDAPSURL + " is NOT verified"},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			snap, _, stderr, err := fetch(t, liveSpec(t, s, tc.mut), tc.vars)
			require.NoError(t, err)
			assert.Len(t, snap.Users, 4)
			if tc.warn == "" {
				assert.Empty(t, stderr)
			} else {
				assert.Contains(t, stderr, tc.warn)
			}
		})
	}

	fail := []struct {
		name string
		mut  func(d *v1alpha1.Directory)
		vars map[string]string
		want string
	}{
		{"wrong password", func(d *v1alpha1.Directory) { d.BindDN, d.BindPasswordEnv = reader, "LDAP_PASSWORD" },
			map[string]string{"LDAP_PASSWORD": "not-the-password"},
			"spec.directory.bindDN: bind as cn=reader,ou=Services,dc=example,dc=org refused by " + s.URL + ": invalid credentials (check bindDN and the password in $LDAP_PASSWORD)"},
		{"password env unset", func(d *v1alpha1.Directory) { d.BindDN, d.BindPasswordEnv = reader, "LDAP_PASSWORD" }, nil,
			"spec.directory.bindPasswordEnv: environment variable LDAP_PASSWORD is not set or empty"},
		{"password file missing", func(d *v1alpha1.Directory) { d.BindDN, d.BindPasswordFile = reader, filepath.Join(dir, "nope") }, nil,
			"spec.directory.bindPasswordFile: cannot read " + filepath.Join(dir, "nope") + ": no such file or directory"},
		{"wrong CA over ldaps", func(d *v1alpha1.Directory) { d.URL, d.CAFile = s.LDAPSURL, wrongCAFile }, nil,
			"spec.directory.caFile: TLS handshake with " + s.LDAPSURL + " failed: certificate signed by an unknown authority"},
		{"wrong CA with startTLS", func(d *v1alpha1.Directory) { d.StartTLS, d.CAFile = true, wrongCAFile }, nil,
			"spec.directory.caFile: StartTLS with " + s.URL + " failed: certificate signed by an unknown authority"},
		{"system roots do not know the test CA", func(d *v1alpha1.Directory) { d.URL = s.LDAPSURL }, nil,
			"spec.directory.url: TLS handshake with " + s.LDAPSURL + " failed: certificate signed by an unknown authority"},
		{"no such base DN", func(d *v1alpha1.Directory) { d.Users.BaseDN = "ou=Nobody," + suffix }, nil,
			"spec.directory.users: search under ou=Nobody,dc=example,dc=org with (objectClass=posixAccount) failed: the base DN does not exist"},
		{"missing uidNumber", func(d *v1alpha1.Directory) {
			d.Users = v1alpha1.UserSearch{DirectorySearch: v1alpha1.DirectorySearch{BaseDN: "ou=MissingUID,ou=Broken," + suffix, Filter: "(uid=*)"}}
		}, nil, "spec.directory: user uid=nouid,ou=MissingUID,ou=Broken,dc=example,dc=org (nouid): no uidNumber"},
		{"duplicate username", func(d *v1alpha1.Directory) { d.Users.BaseDN = "ou=DuplicateName,ou=Broken," + suffix }, nil,
			`spec.directory: cn=dupe-b,ou=DuplicateName,ou=Broken,dc=example,dc=org: duplicate user "dupe" (also cn=dupe-a,ou=DuplicateName,ou=Broken,dc=example,dc=org)`},
		{"duplicate uid", func(d *v1alpha1.Directory) { d.Users.BaseDN = "ou=DuplicateUID,ou=Broken," + suffix }, nil,
			`is also the uid of "twin1"`},
	}
	for _, tc := range fail {
		t.Run(tc.name, func(t *testing.T) {
			snap, _, _, err := fetch(t, liveSpec(t, s, tc.mut), tc.vars)
			require.Error(t, err)
			assert.Nil(t, snap, "nothing partial")
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "reader-secret")
			assert.NotContains(t, err.Error(), "not-the-password")
			var l field.List
			assert.ErrorAs(t, err, &l, "errors carry field paths")
		})
	}
}

func TestLiveSkipInvalidRecords(t *testing.T) {
	s := fixtureSLAPD(t)
	d := liveSpec(t, s, func(d *v1alpha1.Directory) {
		d.Users = v1alpha1.UserSearch{DirectorySearch: v1alpha1.DirectorySearch{BaseDN: "ou=MissingUID,ou=Broken," + suffix, Filter: "(uid=*)"}}
		d.OnInvalidRecord = "skip"
	})
	snap, _, stderr, err := fetch(t, d, nil)
	require.NoError(t, err)
	require.Len(t, snap.Users, 1)
	assert.Equal(t, "good1", snap.Users[0].Name)
	assert.Contains(t, stderr, "warning: spec.directory: skipped user uid=nouid,ou=MissingUID,ou=Broken,dc=example,dc=org (nouid): no uidNumber")
}

func TestLiveServerLimits(t *testing.T) {
	slapdtest.Binaries(t)
	s := slapdtest.Start(t, slapdtest.Options{
		LDIFFiles: []string{slapdtest.Fixture("directory.ldif")},
		Global:    []string{"sizelimit 2"},
		Database: []string{
			"overlay retcode",
			`retcode-parent "ou=RetCodes,` + suffix + `"`,
			`retcode-item "cn=timelimit" 0x03`,
		},
	})
	t.Run("size limit", func(t *testing.T) {
		snap, _, _, err := fetch(t, liveSpec(t, s, nil), nil)
		require.Error(t, err)
		assert.Nil(t, snap)
		assert.Contains(t, err.Error(), "spec.directory.users: search under ou=People,dc=example,dc=org with (objectClass=posixAccount) failed: the server's size limit cut the search short; refusing a partial list")
		// The hint names each server's knob: OpenLDAP, 389-ds/FreeIPA, Active Directory.
		for _, hint := range []string{`limits dn.exact="<bindDN>" size=unlimited`, "`nsSizeLimit: -1` on the bind entry", "pageSize at or below nsslapd-sizelimit", "MaxPageSize"} {
			assert.Contains(t, err.Error(), hint)
		}
	})
	t.Run("size limit with small pages", func(t *testing.T) {
		_, _, _, err := fetch(t, liveSpec(t, s, func(d *v1alpha1.Directory) { d.PageSize = 1 }), nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "size limit")
	})
	t.Run("time limit", func(t *testing.T) {
		d := liveSpec(t, s, func(d *v1alpha1.Directory) { d.Users.BaseDN = "cn=timelimit,ou=RetCodes," + suffix })
		snap, _, _, err := fetch(t, d, nil)
		require.Error(t, err)
		assert.Nil(t, snap)
		assert.Contains(t, err.Error(), "the server's time limit cut the search short; refusing a partial list")
	})
	t.Run("root is not limited", func(t *testing.T) {
		d := liveSpec(t, s, func(d *v1alpha1.Directory) { d.BindDN, d.BindPasswordEnv = s.RootDN, "PW" })
		snap, _, _, err := fetch(t, d, map[string]string{"PW": slapdtest.RootPassword})
		require.NoError(t, err)
		assert.Len(t, snap.Users, 4)
	})
}

func TestLiveDeadServers(t *testing.T) {
	slapdtest.Binaries(t)
	t.Run("stopped server", func(t *testing.T) {
		s := slapdtest.Start(t, slapdtest.Options{LDIFFiles: []string{slapdtest.Fixture("directory.ldif")}})
		d := liveSpec(t, s, nil)
		s.Stop()
		start := time.Now()
		snap, _, _, err := fetch(t, d, nil)
		require.Error(t, err)
		assert.Nil(t, snap)
		assert.Contains(t, err.Error(), "spec.directory.url: cannot connect to "+s.URL+": connect: connection refused")
		assert.Less(t, time.Since(start), 2*time.Second)
	})
	t.Run("server that accepts and never answers", func(t *testing.T) {
		url := slapdtest.SilentServer(t)
		for _, tc := range []struct {
			name string
			mut  func(d *v1alpha1.Directory)
			want string
		}{
			{"search", func(d *v1alpha1.Directory) { d.URL = url }, "failed: no answer within 100ms (spec.directory.timeout)"},
			{"bind", func(d *v1alpha1.Directory) { d.URL, d.BindDN, d.BindPasswordEnv = url, "cn=x,o=y", "PW" }, "refused by " + url + ": no answer within 100ms"},
			{"startTLS", func(d *v1alpha1.Directory) { d.URL, d.StartTLS = url, true }, "StartTLS with " + url + " failed"},
			{"ldaps handshake", func(d *v1alpha1.Directory) { d.URL = "ldaps://" + strings.TrimPrefix(url, "ldap://") }, "(no answer within 100ms, spec.directory.connectTimeout)"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel() // each waits out its own timeout against the one silent server
				d := &v1alpha1.Directory{
					Users:          v1alpha1.UserSearch{DirectorySearch: v1alpha1.DirectorySearch{BaseDN: "o=y"}},
					Groups:         v1alpha1.DirectorySearch{BaseDN: "o=y"},
					Timeout:        "100ms",
					ConnectTimeout: "100ms",
				}
				tc.mut(d)
				d.Default()
				require.Empty(t, d.Validate("spec.directory"))
				start := time.Now()
				_, _, _, err := fetch(t, d, map[string]string{"PW": "x"})
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.want)
				assert.Less(t, time.Since(start), 3*time.Second, "a dead server fails in seconds")
			})
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		s := fixtureSLAPD(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		env, _ := testEnv(nil)
		_, _, err := directory.Fetch(ctx, "test", liveSpec(t, s, nil), env)
		require.Error(t, err)
	})
}

// TestFetchReadsNamesAsData: a username made of filter syntax is data, read as it is.
// No value read from the directory ever enters a search filter: the filters are the
// site's own.
func TestFetchReadsNamesAsData(t *testing.T) {
	s := fixtureSLAPD(t)
	odd := liveSpec(t, s, func(d *v1alpha1.Directory) { d.Users.BaseDN = "ou=Odd,ou=Broken," + suffix })
	snap, _, _, err := fetch(t, odd, nil)
	require.NoError(t, err)
	got := map[string]int64{}
	for _, u := range snap.Users {
		got[u.Name] = u.UID
	}
	assert.Equal(t, map[string]int64{"*)(uid=*": 21301, "plain": 21302}, got)
}

func TestLoadPrefersSnapshot(t *testing.T) {
	s := fixtureSLAPD(t)
	dir := t.TempDir()
	d := liveSpec(t, s, func(d *v1alpha1.Directory) { d.Snapshot = "lock.yaml" })
	env, stderr := testEnv(nil)
	env.Dir = dir

	// No file yet: live, with a warning.
	live, err := directory.Load(context.Background(), "test", d, env)
	require.NoError(t, err)
	assert.Contains(t, stderr.String(), "lock.yaml does not exist: querying "+s.URL+" live")
	b, err := live.Marshal()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "lock.yaml"), b, 0o644))

	// With the file and the server pointed elsewhere... the query must stay the same,
	// so stop reaching the server by making every connection fail instead.
	edited := *live
	edited.Users = edited.Users[:1]
	b, err = edited.Marshal()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "lock.yaml"), b, 0o644))
	got, err := directory.Load(context.Background(), "test", d, env)
	require.NoError(t, err)
	assert.Len(t, got.Users, 1, "read from the file")

	// Forced live by flag or by environment.
	forced := env
	forced.Live = true
	got, err = directory.Load(context.Background(), "test", d, forced)
	require.NoError(t, err)
	assert.Len(t, got.Users, 4)
	env.Getenv = func(k string) string { return map[string]string{directory.LiveEnv: "1"}[k] }
	got, err = directory.Load(context.Background(), "test", d, env)
	require.NoError(t, err)
	assert.Len(t, got.Users, 4)

	// Another query: refused.
	env.Getenv = nil
	other := liveSpec(t, s, func(d *v1alpha1.Directory) { d.Snapshot = "lock.yaml"; d.Users.Filter = "(uid=*)" })
	_, err = directory.Load(context.Background(), "test", other, env)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `spec.directory.snapshot: `+filepath.Join(dir, "lock.yaml")+` was taken for another query: users.filter is "(objectClass=posixAccount)" in the snapshot but "(uid=*)" in the site`)
	assert.Contains(t, err.Error(), "krm-fn snapshot SITE.yaml > lock.yaml")
}
