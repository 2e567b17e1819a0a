package krmfn_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peruser-dev/peruser/internal/env"
	"github.com/peruser-dev/peruser/internal/slapdtest"
	"github.com/peruser-dev/peruser/krmfn"
)

// The directory tests run krm-fn as a GitOps engine would and hold it to the contract
// of issue 3: on any directory problem, exit non-zero, say why on stderr, and print
// nothing at all on stdout — a shrunken output would prune real users' namespaces.

const ldapSuffix = slapdtest.DefaultSuffix

// ldapSite is a Site whose spec.directory is directoryYAML (indented under it).
func ldapSite(directoryYAML string) string {
	return `apiVersion: peruser.dev/v1alpha1
kind: Site
metadata:
  name: ldap-site
spec:
  directory:
` + indent(directoryYAML, "    ") + `
  profiles:
    default: {quota: {pods: "10"}}
    staff: {groups: [lsst-staff], quota: {pods: "40"}}
  namespace: {naming: hashed} # the directory holds names OOD's rule cannot name (ana_lopez)
`
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}

// directoryYAML is a spec.directory for the fixture tree at url, plus extra lines.
func directoryYAML(url string, extra ...string) string {
	return strings.Join(append([]string{
		"url: " + url,
		`users: {baseDN: "ou=People,` + ldapSuffix + `"}`,
		`groups: {baseDN: "ou=Groups,` + ldapSuffix + `"}`,
	}, extra...), "\n")
}

// krm runs krm-fn in-process with dir as its working directory and vars as its
// whole environment.
func krm(t *testing.T, dir string, vars map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := env.Env{Dir: dir, Getenv: func(k string) string { return vars[k] }, Stderr: &errOut}
	code = krmfn.Run(context.Background(), args, strings.NewReader(""), &out, &errOut, env)
	return out.String(), errOut.String(), code
}

func writeSite(t *testing.T, dir, site string) string {
	t.Helper()
	p := filepath.Join(dir, "site.yaml")
	require.NoError(t, os.WriteFile(p, []byte(site), 0o644))
	return p
}

func startFixtureSLAPD(t *testing.T, opts slapdtest.Options) *slapdtest.Server {
	t.Helper()
	opts.LDIFFiles = append([]string{slapdtest.Fixture("directory.ldif"), slapdtest.Fixture("broken.ldif")}, opts.LDIFFiles...)
	return slapdtest.Start(t, opts)
}

func TestDirectoryFailsClosed(t *testing.T) {
	t.Parallel() // waits on its own servers and processes; runs beside the package's other parallel tests
	slapdtest.Binaries(t)
	s := startFixtureSLAPD(t, slapdtest.Options{
		Global: []string{"sizelimit 3"},
		Database: []string{
			"overlay retcode",
			`retcode-parent "ou=RetCodes,` + ldapSuffix + `"`,
			`retcode-item "cn=timelimit" 0x03`,
		},
	})
	stopped := startFixtureSLAPD(t, slapdtest.Options{})
	stopped.Stop()
	root := map[string]string{"LDAP_PASSWORD": slapdtest.RootPassword}
	rootBind := []string{"bindDN: " + s.RootDN, "bindPasswordEnv: LDAP_PASSWORD"}
	broken := func(ou string, extra ...string) string {
		return strings.Join(append([]string{
			"url: " + s.URL,
			`users: {baseDN: "ou=` + ou + `,ou=Broken,` + ldapSuffix + `", filter: "(uid=*)"}`,
			`groups: {baseDN: "ou=Groups,` + ldapSuffix + `"}`,
		}, append(rootBind, extra...)...), "\n")
	}
	hung := slapdtest.SilentServer(t)

	cases := []struct {
		name      string
		directory string
		vars      map[string]string
		want      []string
	}{
		{"server unreachable", directoryYAML(stopped.URL), nil,
			[]string{"site.yaml:", "spec.directory.url: cannot connect to " + stopped.URL + ": connect: connection refused"}},
		{"bind refused", directoryYAML(s.URL, rootBind...), map[string]string{"LDAP_PASSWORD": "wrong"},
			[]string{"spec.directory.bindDN: bind as cn=admin,dc=example,dc=org refused by " + s.URL + ": invalid credentials"}},
		{"timeout", directoryYAML(hung, "timeout: 100ms"), nil,
			[]string{"spec.directory.users: search under ou=People,dc=example,dc=org with (objectClass=posixAccount) failed: no answer within 100ms (spec.directory.timeout)"}},
		{"size limit exceeded", directoryYAML(s.URL), nil,
			[]string{"spec.directory.users:", "the server's size limit cut the search short; refusing a partial list"}},
		{"time limit exceeded", strings.Replace(directoryYAML(s.URL, rootBind...), "ou=People,", "cn=timelimit,ou=RetCodes,", 1), root,
			[]string{"spec.directory.users:", "the server's time limit cut the search short; refusing a partial list"}},
		{"user without uidNumber", broken("MissingUID"), root,
			[]string{"spec.directory: user uid=nouid,ou=MissingUID,ou=Broken,dc=example,dc=org (nouid): no uidNumber",
				"spec.directory.onInvalidRecord: refusing a partial user list"}},
		{"duplicate username", broken("DuplicateName"), root,
			[]string{`spec.directory: cn=dupe-b,ou=DuplicateName,ou=Broken,dc=example,dc=org: duplicate user "dupe" (also cn=dupe-a,ou=DuplicateName,ou=Broken,dc=example,dc=org)`}},
		{"duplicate uid", broken("DuplicateUID"), root,
			[]string{`spec.directory: uid=twin2,ou=DuplicateUID,ou=Broken,dc=example,dc=org: uid 21201 of "twin2" is also the uid of "twin1" (uid=twin1,ou=DuplicateUID,ou=Broken,dc=example,dc=org): two users must never share a uid`}},
		{"fewer users than minUsers", directoryYAML(s.URL, append(rootBind, "minUsers: 5")...), root,
			[]string{"spec.directory.minUsers: only 4 users resolved (4 from the directory, 0 inline), fewer than minUsers 5"}},
		{"nobody in the selecting group", strings.Replace(directoryYAML(s.URL, rootBind...), `"}`, `", inGroups: [nobody]}`, 1), root,
			[]string{`spec.directory.users.inGroups[0]: no group named "nobody"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			site := writeSite(t, dir, ldapSite(tc.directory))
			for _, args := range [][]string{{"render", site}, {"snapshot", site}} {
				stdout, stderr, code := krm(t, dir, tc.vars, args...)
				assert.Equal(t, 1, code, "%s: stderr:\n%s", args[0], stderr)
				assert.Empty(t, stdout, "%s: nothing on stdout, ever", args[0])
				for _, w := range tc.want {
					assert.Contains(t, stderr, w, args[0])
				}
				assert.NotContains(t, stderr, slapdtest.RootPassword)
			}
		})
	}
}

func TestDirectorySkipNamesUsersOnStderr(t *testing.T) {
	t.Parallel() // waits on its own servers and processes; runs beside the package's other parallel tests
	slapdtest.Binaries(t)
	s := startFixtureSLAPD(t, slapdtest.Options{})
	dir := t.TempDir()
	site := writeSite(t, dir, ldapSite(strings.Join([]string{
		"url: " + s.URL,
		`users: {baseDN: "ou=MissingUID,ou=Broken,` + ldapSuffix + `", filter: "(uid=*)"}`,
		`groups: {baseDN: "ou=Groups,` + ldapSuffix + `"}`,
		"onInvalidRecord: skip",
	}, "\n")))
	stdout, stderr, code := krm(t, dir, nil, "render", site)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "warning: spec.directory: skipped user uid=nouid,ou=MissingUID,ou=Broken,dc=example,dc=org (nouid): no uidNumber (onInvalidRecord: skip)")
	assert.Contains(t, stdout, "name: user-good1\n")
}

// A snapshot makes the render hermetic: with the file present, no server is needed.
func TestDirectorySnapshotWorkflow(t *testing.T) {
	t.Parallel() // waits on its own servers and processes; runs beside the package's other parallel tests
	slapdtest.Binaries(t)
	s := startFixtureSLAPD(t, slapdtest.Options{})
	dir := t.TempDir()
	pw := filepath.Join(dir, "ldap-password")
	require.NoError(t, os.WriteFile(pw, []byte("reader-secret\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ldap-ca.pem"), mustRead(t, s.CAFile), 0o644))
	dirYAML := func(url string) string {
		return directoryYAML(url,
			"startTLS: true",
			"caFile: ldap-ca.pem",
			"bindDN: cn=reader,ou=Services,"+ldapSuffix,
			"bindPasswordFile: ldap-password",
			"snapshot: directory.lock.yaml",
			"minUsers: 4")
	}
	site := writeSite(t, dir, ldapSite(dirYAML(s.URL)))

	// No snapshot yet: a live render, with a note on stderr.
	live, stderr, code := krm(t, dir, nil, "render", site)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "directory.lock.yaml does not exist: querying "+s.URL+" live")
	assert.Contains(t, live, "name: user-sam-example-edu-")
	assert.NotContains(t, live, "reader-secret")

	// krm-fn snapshot writes the lock file; it holds no secret and no timestamp.
	snap, stderr, code := krm(t, dir, nil, "snapshot", site)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "krm-fn: snapshot: 4 users from "+s.URL)
	assert.NotContains(t, snap, "reader-secret")
	assert.NotContains(t, snap, "cn=reader")
	assert.Contains(t, snap, "kind: DirectorySnapshot\n")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "directory.lock.yaml"), []byte(snap), 0o644))
	again, _, _ := krm(t, dir, nil, "snapshot", site)
	assert.Equal(t, snap, again, "same directory, same bytes")

	// Stop the server: rendering from the snapshot still works, byte for byte.
	s.Stop()
	hermetic, stderr, code := krm(t, dir, nil, "render", site)
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, stderr)
	assert.Equal(t, live, hermetic)

	// Forcing a live lookup with the server down fails closed.
	for _, forced := range []struct {
		vars map[string]string
		args []string
	}{
		{nil, []string{"render", "--live", site}},
		{map[string]string{"PERUSER_DIRECTORY_LIVE": "1"}, []string{"render", site}},
	} {
		stdout, stderr, code := krm(t, dir, forced.vars, forced.args...)
		assert.Equal(t, 1, code)
		assert.Empty(t, stdout)
		assert.Contains(t, stderr, "spec.directory.url: cannot connect to "+s.URL)
	}

	// The KRM function mode reads the snapshot too (kustomize runs it in the
	// kustomization's directory, which is env.Dir here).
	siteDoc := mustRead(t, site)
	rl := "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n" + indent(string(siteDoc), "  ") + "\n"
	var out, errOut bytes.Buffer
	env := env.Env{Dir: dir, Getenv: func(string) string { return "" }, Stderr: &errOut}
	code = krmfn.Run(context.Background(), nil, strings.NewReader(rl), &out, &errOut, env)
	require.Equal(t, 0, code, errOut.String())
	assert.Contains(t, out.String(), "name: user-sam-example-edu-")

	// A snapshot taken for another query is refused, not used.
	edited := writeSite(t, dir, ldapSite(strings.Replace(dirYAML(s.URL), "ou=Groups,", "ou=NamedGroups,", 1)))
	stdout, stderr, code := krm(t, dir, nil, "render", edited)
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, `spec.directory.snapshot: `+filepath.Join(dir, "directory.lock.yaml")+` was taken for another query: groups.baseDN is "ou=Groups,dc=example,dc=org" in the snapshot but "ou=NamedGroups,dc=example,dc=org" in the site`)
}

func TestDirectoryProfilesAndInlineUsers(t *testing.T) {
	t.Parallel() // waits on its own servers and processes; runs beside the package's other parallel tests
	slapdtest.Binaries(t)
	s := startFixtureSLAPD(t, slapdtest.Options{})
	dir := t.TempDir()
	site := ldapSite(directoryYAML(s.URL, "minUsers: 4"))
	site = strings.Replace(site, "spec:\n", "spec:\n  users:\n    - {name: oakley, uid: 20001, gid: 20001, profile: default}\n    - {name: extra, uid: 20100, gid: 20100}\n", 1)
	path := writeSite(t, dir, site)
	stdout, stderr, code := krm(t, dir, nil, "render", path)
	require.Equal(t, 0, code, stderr)
	docs := strings.Split(stdout, "\n---\n")
	quota := func(ns string) string {
		for _, d := range docs {
			if strings.Contains(d, "kind: ResourceQuota") && strings.Contains(d, "namespace: "+ns+"\n") {
				return d
			}
		}
		t.Fatalf("no ResourceQuota in %s", ns)
		return ""
	}
	assert.Contains(t, quota("user-oakley"), `pods: "10"`, "the inline entry (profile default) wins over the directory's lsst-staff membership")
	assert.Contains(t, quota("user-extra"), `pods: "10"`)
	assert.Contains(t, stdout, "name: user-ana-lopez-")
	// 4 directory users + 1 inline-only user.
	assert.Equal(t, 5, strings.Count(stdout, "\nkind: Namespace\n")+boolInt(strings.HasPrefix(stdout, "kind: Namespace\n")))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestDirectoryBindPasswordInSpecIsASchemaError(t *testing.T) {
	dir := t.TempDir()
	site := writeSite(t, dir, ldapSite(directoryYAML("ldap://127.0.0.1:1", "bindDN: cn=reader,dc=example,dc=org", "bindPassword: hunter2")))
	stdout, stderr, code := krm(t, dir, nil, "render", site)
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "site.yaml:11: spec.directory.bindPassword: a bind password is never written in the spec: put it in an environment variable (bindPasswordEnv) or a file (bindPasswordFile)")
	assert.NotContains(t, stderr, "hunter2")
}

// The real executable, as a GitOps engine runs it: exit status and streams.
func TestDirectoryBinaryFailsClosed(t *testing.T) {
	t.Parallel() // waits on its own servers and processes; runs beside the package's other parallel tests
	bin := krmFn(t)
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "ldap://" + l.Addr().String()
	l.Close() // nothing listens there now
	site := writeSite(t, dir, ldapSite(directoryYAML(url)))
	cmd := exec.Command(bin, "render", site)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 1, exit.ExitCode())
	assert.Empty(t, stdout.String())
	assert.Equal(t, fmt.Sprintf("krm-fn: error: %s:7: spec.directory.url: cannot connect to %s: connect: connection refused\n", site, url), stderr.String())
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return b
}
