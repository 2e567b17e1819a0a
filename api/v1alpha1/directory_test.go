package v1alpha1_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	_ "github.com/peruser-dev/peruser/internal/golden" // defines -update
)

func directory(mut func(d *v1alpha1.Directory)) *v1alpha1.Directory {
	d := &v1alpha1.Directory{
		URL:    "ldaps://ldap.example.org",
		Users:  v1alpha1.UserSearch{DirectorySearch: v1alpha1.DirectorySearch{BaseDN: "ou=People,dc=example,dc=org"}},
		Groups: v1alpha1.DirectorySearch{BaseDN: "ou=Groups,dc=example,dc=org"},
	}
	if mut != nil {
		mut(d)
	}
	d.Default()
	return d
}

func TestDirectoryDefaults(t *testing.T) {
	d := directory(nil)
	assert.Equal(t, "(objectClass=posixAccount)", d.Users.Filter)
	assert.Equal(t, "(objectClass=posixGroup)", d.Groups.Filter)
	assert.Equal(t, "memberUid", d.MemberScheme)
	assert.Equal(t, v1alpha1.Attributes{Name: "uid", UID: "uidNumber", GID: "gidNumber", GroupName: "cn", GroupGID: "gidNumber"}, d.Attributes)
	assert.Equal(t, 1000, d.PageSize)
	assert.Equal(t, "5s", d.ConnectTimeout)
	assert.Equal(t, "15s", d.Timeout)
	assert.Nil(t, d.MinUsers, "unset: spec.minUsers decides (Site.MinimumUsers)")
	assert.Equal(t, "fail", d.OnInvalidRecord)
	again := *d
	again.Default()
	assert.Equal(t, *d, again, "idempotent")

	zero := 0
	assert.Equal(t, 0, *directory(func(d *v1alpha1.Directory) { d.MinUsers = &zero }).MinUsers, "an explicit 0 stays")
	assert.Empty(t, directory(nil).Validate("spec.directory"))
}

func TestDirectoryValidate(t *testing.T) {
	cases := map[string]struct {
		mut  func(d *v1alpha1.Directory)
		want string
	}{
		"bad filter":            {func(d *v1alpha1.Directory) { d.Users.Filter = "(uid=a" }, "spec.directory.users.filter: not an LDAP filter"},
		"bad base DN":           {func(d *v1alpha1.Directory) { d.Groups.BaseDN = "not a dn" }, `spec.directory.groups.baseDN: not a DN: "not a dn"`},
		"bindDN without secret": {func(d *v1alpha1.Directory) { d.BindDN = "cn=x,dc=y" }, "spec.directory.bindDN: set bindPasswordEnv or bindPasswordFile"},
		"secret without bindDN": {func(d *v1alpha1.Directory) { d.BindPasswordEnv = "PW" }, "spec.directory.bindDN: a bind password is configured but no bindDN"},
		"two secrets": {func(d *v1alpha1.Directory) {
			d.BindDN, d.BindPasswordEnv, d.BindPasswordFile = "cn=x,dc=y", "PW", "pw.txt"
		}, "spec.directory: set only one of bindPasswordEnv or bindPasswordFile"},
		"caFile and skip":         {func(d *v1alpha1.Directory) { d.CAFile, d.InsecureSkipVerify = "ca.pem", true }, "spec.directory.insecureSkipVerify: contradicts caFile"},
		"startTLS on ldaps":       {func(d *v1alpha1.Directory) { d.StartTLS = true }, "spec.directory.startTLS: ldaps:// is already TLS"},
		"caFile without TLS":      {func(d *v1alpha1.Directory) { d.URL, d.CAFile = "ldap://x", "ca.pem" }, "spec.directory.caFile: has no effect without TLS"},
		"bad timeout":             {func(d *v1alpha1.Directory) { d.Timeout = "soon" }, `spec.directory.timeout: "soon" is not a Go duration such as 168h or 30m`},
		"credentials in the url":  {func(d *v1alpha1.Directory) { d.URL = "ldaps://reader:hunter2@ldap.example.org" }, "spec.directory.url: must be ldap://host[:port] or ldaps://host[:port], without credentials"},
		"no host in the url":      {func(d *v1alpha1.Directory) { d.URL = "ldap://:389" }, "spec.directory.url: must be ldap://host[:port]"},
		"timeout out of range":    {func(d *v1alpha1.Directory) { d.ConnectTimeout = "2h" }, "spec.directory.connectTimeout: must be between 100ms and 1h, got 2h"},
		"startTLS without caFile": {func(d *v1alpha1.Directory) { d.URL, d.StartTLS = "ldap://x", true }, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			errs := directory(tc.mut).Validate("spec.directory")
			if tc.want == "" {
				assert.Empty(t, errs)
				return
			}
			assert.True(t, strings.Contains(errs.Error(), tc.want), "%q does not contain %q", errs.Error(), tc.want)
		})
	}
}
