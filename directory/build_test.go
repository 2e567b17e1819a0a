package directory

import (
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/identity"
	_ "github.com/peruser-dev/peruser/internal/golden" // defines -update
)

func dirSpec(mut func(*v1alpha1.Directory)) *v1alpha1.Directory {
	d := &v1alpha1.Directory{
		URL:    "ldap://127.0.0.1:1",
		Users:  v1alpha1.UserSearch{DirectorySearch: v1alpha1.DirectorySearch{BaseDN: "ou=People,dc=example,dc=org"}},
		Groups: v1alpha1.DirectorySearch{BaseDN: "ou=Groups,dc=example,dc=org"},
	}
	if mut != nil {
		mut(d)
	}
	d.Default()
	return d
}

func user(dn, name, uid, gid string, extra ...string) *ldap.Entry {
	attrs := map[string][]string{}
	if name != "" {
		attrs["uid"] = []string{name}
	}
	if uid != "" {
		attrs["uidNumber"] = []string{uid}
	}
	if gid != "" {
		attrs["gidNumber"] = []string{gid}
	}
	for i := 0; i+1 < len(extra); i += 2 {
		attrs[extra[i]] = append(attrs[extra[i]], extra[i+1])
	}
	return ldap.NewEntry(dn, attrs)
}

func grp(dn, name, gid string, extra ...string) *ldap.Entry {
	attrs := map[string][]string{"cn": {name}, "gidNumber": {gid}}
	for i := 0; i+1 < len(extra); i += 2 {
		attrs[extra[i]] = append(attrs[extra[i]], extra[i+1])
	}
	return ldap.NewEntry(dn, attrs)
}

func names(us []User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.Name
	}
	return out
}

func TestBuildMemberSchemes(t *testing.T) {
	users := []*ldap.Entry{
		user("uid=b.x,ou=People,dc=example,dc=org", "b.x", "1002", "1002",
			"memberOf", "CN=Staff,OU=Groups,DC=Example,DC=Org"),
		user("uid=a,ou=People,dc=example,dc=org", "a", "1001", "3000",
			"memberOf", "cn=proj, ou=Groups, dc=example, dc=org", "memberOf", "cn=elsewhere,dc=example,dc=org"),
	}
	groups := []*ldap.Entry{
		grp("cn=staff,ou=Groups,dc=example,dc=org", "staff", "3001",
			"memberUid", "b.x", "member", "UID=B.X,OU=People,DC=EXAMPLE,DC=ORG"),
		grp("cn=proj,ou=Groups,dc=example,dc=org", "proj", "3000"),
		grp("cn=proj2,ou=Groups,dc=example,dc=org", "proj2", "3002",
			"memberUid", "a", "memberUid", "ghost", "member", "uid=a,ou=People,dc=example,dc=org"),
	}
	want := map[string][]identity.Group{
		"memberUid": nil, "member": nil, "memberOf": nil,
	}
	for scheme := range want {
		t.Run(scheme, func(t *testing.T) {
			res, err := Build(dirSpec(func(d *v1alpha1.Directory) { d.MemberScheme = scheme }), users, groups)
			require.NoError(t, err)
			require.Equal(t, []string{"a", "b.x"}, names(res.Users), "sorted by name")
			assert.Equal(t, []identity.Group{{Name: "staff", GID: 3001}}, res.Users[1].Groups)
			// a: primary group proj (gid 3000) always; proj2 by memberUid/member; via
			// memberOf a is listed in proj only.
			switch scheme {
			case "memberOf":
				assert.Equal(t, []identity.Group{{Name: "proj", GID: 3000}}, res.Users[0].Groups)
			default:
				assert.Equal(t, []identity.Group{{Name: "proj", GID: 3000}, {Name: "proj2", GID: 3002}}, res.Users[0].Groups)
			}
		})
	}
}

func TestBuildInGroups(t *testing.T) {
	users := []*ldap.Entry{user("uid=a,o=x", "a", "1001", "1001"), user("uid=b,o=x", "b", "1002", "1002")}
	groups := []*ldap.Entry{grp("cn=k8s-users,o=x", "k8s-users", "3000", "memberUid", "b")}
	res, err := Build(dirSpec(func(d *v1alpha1.Directory) { d.Users.InGroups = []string{"k8s-users"} }), users, groups)
	require.NoError(t, err)
	assert.Equal(t, []string{"b"}, names(res.Users))

	_, err = Build(dirSpec(func(d *v1alpha1.Directory) { d.Users.InGroups = []string{"k8s-user"} }), users, groups)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `spec.directory.users.inGroups[0]: no group named "k8s-user"`)
}

func TestBuildFailsClosed(t *testing.T) {
	good := user("uid=good,o=x", "good", "1001", "1001")
	cases := []struct {
		name   string
		users  []*ldap.Entry
		groups []*ldap.Entry
		want   string
	}{
		{"missing uidNumber", []*ldap.Entry{good, user("uid=n,o=x", "n", "", "1")}, nil, "user uid=n,o=x (n): no uidNumber"},
		{"non-numeric uidNumber", []*ldap.Entry{good, user("uid=n,o=x", "n", "12a", "1")}, nil, `uidNumber "12a" is not a number`},
		{"uid 0", []*ldap.Entry{good, user("uid=n,o=x", "n", "0", "1")}, nil, "uidNumber 0 is out of range"},
		{"missing gidNumber", []*ldap.Entry{good, user("uid=n,o=x", "n", "1002", "")}, nil, "no gidNumber"},
		{"missing name", []*ldap.Entry{good, user("cn=n,o=x", "", "1002", "1002")}, nil, "user cn=n,o=x: no uid"},
		{"two uidNumbers", []*ldap.Entry{good, user("uid=n,o=x", "n", "1002", "1002", "uidNumber", "1003")}, nil, "2 values of uidNumber"},
		{"duplicate name", []*ldap.Entry{good, user("cn=other,o=x", "good", "1002", "1002")}, nil, `uid=good,o=x: duplicate user "good" (also cn=other,o=x)`},
		{"duplicate uid", []*ldap.Entry{good, user("uid=twin,o=x", "twin", "1001", "1002")}, nil, `uid=twin,o=x: uid 1001 of "twin" is also the uid of "good" (uid=good,o=x): two users must never share a uid`},
		{"group without gid", []*ldap.Entry{good}, []*ldap.Entry{ldap.NewEntry("cn=g,o=x", map[string][]string{"cn": {"g"}})}, "group cn=g,o=x (g): no gidNumber"},
		{"duplicate group name", []*ldap.Entry{good}, []*ldap.Entry{grp("cn=g,ou=a,o=x", "g", "3000"), grp("cn=g,ou=b,o=x", "g", "3001")}, `two groups are named "g"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Build(dirSpec(nil), tc.users, tc.groups)
			require.Error(t, err)
			assert.Nil(t, res)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "spec.directory"), err.Error())
		})
	}
}

func TestBuildSkipInvalidRecords(t *testing.T) {
	skip := dirSpec(func(d *v1alpha1.Directory) { d.OnInvalidRecord = "skip" })
	users := []*ldap.Entry{user("uid=good,o=x", "good", "1001", "1001"), user("uid=n,o=x", "n", "", "1")}
	res, err := Build(skip, users, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"good"}, names(res.Users))
	assert.Equal(t, []string{"user uid=n,o=x (n): no uidNumber"}, res.Skipped)

	// Duplicates are never skippable: which of the two would be right?
	users = append(users, user("uid=twin,o=x", "twin", "1001", "1001"))
	_, err = Build(skip, users, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `uid 1001 of "twin" is also the uid of "good"`)
}

func TestBuildCapsProblemList(t *testing.T) {
	var users []*ldap.Entry
	for i := range 30 {
		users = append(users, user("uid=n"+string(rune('a'+i%26))+string(rune('a'+i/26))+",o=x", "n", "", "1"))
	}
	_, err := Build(dirSpec(nil), users, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "… and 10 more problems")
	assert.Contains(t, err.Error(), "set onInvalidRecord: skip")
}

func TestBuildMultiValuedNameUsesRDN(t *testing.T) {
	e := user("uid=jdoe,o=x", "jdoe", "1001", "1001", "uid", "john.doe")
	res, err := Build(dirSpec(nil), []*ldap.Entry{e}, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"jdoe"}, names(res.Users))

	e = user("cn=John,o=x", "jdoe", "1001", "1001", "uid", "john.doe")
	_, err = Build(dirSpec(nil), []*ldap.Entry{e}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "2 values of uid (jdoe, john.doe) and none is the entry's RDN")
}

func TestNormalizeDN(t *testing.T) {
	same := [][2]string{
		{"uid=a,ou=People,dc=example,dc=org", "UID=A, OU=people,DC=Example,DC=ORG"},
		{`cn=a\,b,o=x`, `CN=A\2cB,O=X`},
		{"cn=a+uid=b,o=x", "uid=b+cn=a,o=x"},
	}
	for _, p := range same {
		assert.Equal(t, normalizeDN(p[0]), normalizeDN(p[1]), "%s vs %s", p[0], p[1])
	}
	assert.NotEqual(t, normalizeDN(`cn=a\,b,o=x`), normalizeDN("cn=a,b=b,o=x"))
}
