package v1alpha1

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/peruser-dev/peruser/field"
)

// Member schemes: how the directory records who belongs to a group.
const (
	// MemberUID: posixGroup entries list usernames in memberUid (OpenLDAP, RFC 2307).
	MemberUID = "memberUid"
	// MemberDN: group entries list member DNs in member (Active Directory, groupOfNames).
	MemberDN = "member"
	// MemberOf: user entries list their groups' DNs in memberOf (FreeIPA, AD, the
	// OpenLDAP memberof overlay).
	MemberOf = "memberOf"
)

// What to do with a directory record that cannot become a user or a group.
const (
	// InvalidRecordFail makes the whole render fail (the default: fail closed).
	InvalidRecordFail = "fail"
	// InvalidRecordSkip leaves the record out and names it on stderr.
	InvalidRecordSkip = "skip"
)

// Directory defaults. A dead server fails within seconds, and a page is small enough
// for Active Directory's MaxPageSize (1000).
const (
	DefaultUserFilter     = "(objectClass=posixAccount)"
	DefaultGroupFilter    = "(objectClass=posixGroup)"
	DefaultMemberScheme   = MemberUID
	DefaultPageSize       = 1000
	DefaultConnectTimeout = 5 * time.Second
	DefaultTimeout        = 15 * time.Second
	DefaultMinUsers       = 1
)

// Directory resolves users from LDAP (docs/directory.md). Secrets never appear here:
// the bind password comes from an environment variable or a file, read at render time.
type Directory struct {
	// URL is ldap://host[:port] (optionally with StartTLS) or ldaps://host[:port].
	URL string `json:"url"`
	// StartTLS upgrades an ldap:// connection to TLS before binding.
	StartTLS bool `json:"startTLS,omitempty"`
	// CAFile holds the PEM CA certificates that sign the server's certificate; empty
	// means the system roots. Relative paths are read from the working directory.
	CAFile string `json:"caFile,omitempty"`
	// InsecureSkipVerify turns off certificate verification, with a warning on stderr.
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty"`
	// BindDN is the account to bind as; empty binds anonymously.
	BindDN string `json:"bindDN,omitempty"`
	// BindPasswordEnv names the environment variable holding the bind password.
	BindPasswordEnv string `json:"bindPasswordEnv,omitempty"`
	// BindPasswordFile is a file holding the bind password (a trailing newline is dropped).
	BindPasswordFile string `json:"bindPasswordFile,omitempty"`
	// Users is the user search; Groups the group search.
	Users  UserSearch      `json:"users"`
	Groups DirectorySearch `json:"groups"`
	// MemberScheme is memberUid, member or memberOf. Default memberUid.
	MemberScheme string `json:"memberScheme,omitempty"`
	// Attributes names the attributes read; every one has a default.
	Attributes Attributes `json:"attributes,omitempty"`
	// PageSize is the RFC 2696 page size of every search. Default 1000.
	PageSize int `json:"pageSize,omitempty"`
	// ConnectTimeout bounds connecting (TCP and TLS handshake). Default 5s.
	ConnectTimeout string `json:"connectTimeout,omitempty"`
	// Timeout bounds each LDAP operation (bind, StartTLS, each page), and is sent as
	// the server-side time limit of searches. Default 15s.
	Timeout string `json:"timeout,omitempty"`
	// Snapshot is a file written by `krm-fn snapshot`; when it exists, rendering reads
	// it instead of querying LDAP. Relative paths are read from the working directory.
	Snapshot string `json:"snapshot,omitempty"`
	// MinUsers: fewer users after merging inline and directory users is an error. It
	// combines with the site's spec.minUsers (Site.MinimumUsers, minusers.go).
	MinUsers *int `json:"minUsers,omitempty"`
	// MaxRemovals bounds how many users `krm-fn snapshot` may drop compared with the
	// snapshot file it replaces: a count (3) or a percentage ("10%"). Default "10%".
	MaxRemovals *CountOrPercent `json:"maxRemovals,omitempty"`
	// OnInvalidRecord is fail (default) or skip: whether an entry without a usable
	// name, uidNumber or gidNumber fails the render or is left out and named on stderr.
	OnInvalidRecord string `json:"onInvalidRecord,omitempty"`
}

// DirectorySearch is one LDAP search: a subtree under BaseDN matching Filter.
type DirectorySearch struct {
	BaseDN string `json:"baseDN"`
	Filter string `json:"filter,omitempty"`
}

// UserSearch is the user search; InGroups narrows it to members of any of the named
// groups (found by the group search), e.g. everyone in k8s-users.
type UserSearch struct {
	DirectorySearch `json:",inline"`
	InGroups        []string `json:"inGroups,omitempty"`
}

// Attributes names the LDAP attributes read.
type Attributes struct {
	// Name is the username attribute. Default uid (sAMAccountName on AD).
	Name string `json:"name,omitempty"`
	// UID and GID are the user's uidNumber and primary gidNumber.
	UID string `json:"uid,omitempty"`
	GID string `json:"gid,omitempty"`
	// GroupName and GroupGID are the group's name (cn) and gidNumber.
	GroupName string `json:"groupName,omitempty"`
	GroupGID  string `json:"groupGID,omitempty"`
}

// LDAPConfigMaps emits the ConfigMaps of OSC's k8-ldap-configmap (user-uid-map,
// user-gid-map, user-gids-map, user-groups-map), for sites that keep its Kyverno
// policies.
type LDAPConfigMaps struct {
	// Namespace holds the ConfigMaps.
	Namespace string `json:"namespace"`
	// KeyPrefix, when set (even to ""), keys the maps by KeyPrefix + raw username, as
	// k8-ldap-configmap's --user-prefix does. Unset, they are keyed by the user's
	// namespace name, which is what the Kyverno policies look up.
	KeyPrefix *string `json:"keyPrefix,omitempty"`
	// Maps lists the maps to emit; default all four.
	Maps []string `json:"maps,omitempty"`
}

// LDAP ConfigMap names, as k8-ldap-configmap writes them.
const (
	UserUIDMap    = "user-uid-map"
	UserGIDMap    = "user-gid-map"
	UserGIDsMap   = "user-gids-map"
	UserGroupsMap = "user-groups-map"
)

// LDAPConfigMapNames are every map, in output order.
var LDAPConfigMapNames = []string{UserGIDMap, UserGIDsMap, UserGroupsMap, UserUIDMap}

// Default fills in the directory's optional fields. It is idempotent.
func (d *Directory) Default() {
	if d.Users.Filter == "" {
		d.Users.Filter = DefaultUserFilter
	}
	if d.Groups.Filter == "" {
		d.Groups.Filter = DefaultGroupFilter
	}
	if d.MemberScheme == "" {
		d.MemberScheme = DefaultMemberScheme
	}
	a := &d.Attributes
	for _, f := range []struct {
		v   *string
		def string
	}{{&a.Name, "uid"}, {&a.UID, "uidNumber"}, {&a.GID, "gidNumber"}, {&a.GroupName, "cn"}, {&a.GroupGID, "gidNumber"}} {
		if *f.v == "" {
			*f.v = f.def
		}
	}
	if d.PageSize == 0 {
		d.PageSize = DefaultPageSize
	}
	if d.ConnectTimeout == "" {
		d.ConnectTimeout = DefaultConnectTimeout.String()
	}
	if d.Timeout == "" {
		d.Timeout = DefaultTimeout.String()
	}
	if d.OnInvalidRecord == "" {
		d.OnInvalidRecord = InvalidRecordFail
	}
}

// ConnectTimeoutDuration is ConnectTimeout parsed; call after Validate.
func (d *Directory) ConnectTimeoutDuration() time.Duration {
	v, _ := time.ParseDuration(d.ConnectTimeout)
	return v
}

// TimeoutDuration is Timeout parsed; call after Validate.
func (d *Directory) TimeoutDuration() time.Duration {
	v, _ := time.ParseDuration(d.Timeout)
	return v
}

// Validate checks what the schema cannot: filter and DN syntax, durations, and
// fields that only make sense together. path is spec.directory.
func (d *Directory) Validate(path field.Path) field.List {
	var errs field.List
	for _, s := range []struct {
		p field.Path
		s DirectorySearch
	}{{path.Child("users"), d.Users.DirectorySearch}, {path.Child("groups"), d.Groups}} {
		if _, err := ldap.ParseDN(s.s.BaseDN); err != nil || s.s.BaseDN == "" {
			errs = append(errs, field.Errorf(s.p.Child("baseDN").String(), "not a DN: %q", s.s.BaseDN))
		}
		if _, err := ldap.CompileFilter(s.s.Filter); err != nil {
			errs = append(errs, field.Errorf(s.p.Child("filter").String(), "not an LDAP filter: %v (write it in parentheses, e.g. (objectClass=posixAccount))",
				ldapMessage(err)))
		}
	}
	if d.BindDN != "" {
		if _, err := ldap.ParseDN(d.BindDN); err != nil {
			errs = append(errs, field.Errorf(path.Child("bindDN").String(), "not a DN: %q", d.BindDN))
		}
		if d.BindPasswordEnv == "" && d.BindPasswordFile == "" {
			errs = append(errs, field.Errorf(path.Child("bindDN").String(),
				"set bindPasswordEnv or bindPasswordFile (the password is never written in the spec), or remove bindDN to bind anonymously"))
		}
	} else if d.BindPasswordEnv != "" || d.BindPasswordFile != "" {
		errs = append(errs, field.Errorf(path.Child("bindDN").String(), "a bind password is configured but no bindDN: set bindDN, or remove the password to bind anonymously"))
	}
	if d.BindPasswordEnv != "" && d.BindPasswordFile != "" {
		errs = append(errs, field.Errorf(path.String(), "set only one of bindPasswordEnv or bindPasswordFile"))
	}
	if d.CAFile != "" && d.InsecureSkipVerify {
		errs = append(errs, field.Errorf(path.Child("insecureSkipVerify").String(), "contradicts caFile: either verify against caFile or skip verification"))
	}
	// The schema checks the form; the host must be there, and credentials never: a
	// password in the URL would be printed in messages and written into snapshots.
	if u, err := url.Parse(d.URL); err != nil || u.Hostname() == "" || u.User != nil {
		errs = append(errs, field.Errorf(path.Child("url").String(), "must be ldap://host[:port] or ldaps://host[:port], without credentials (use bindDN and bindPasswordEnv or bindPasswordFile)"))
	}
	ldaps := strings.HasPrefix(d.URL, "ldaps://")
	if ldaps && d.StartTLS {
		errs = append(errs, field.Errorf(path.Child("startTLS").String(), "ldaps:// is already TLS; startTLS is only for ldap:// URLs"))
	}
	if !ldaps && !d.StartTLS {
		for _, f := range []struct {
			name string
			set  bool
		}{{"caFile", d.CAFile != ""}, {"insecureSkipVerify", d.InsecureSkipVerify}} {
			if f.set {
				errs = append(errs, field.Errorf(path.Child(f.name).String(), "has no effect without TLS: use an ldaps:// url or startTLS: true"))
			}
		}
	}
	errs = append(errs, validateDuration(path.Child("connectTimeout"), d.ConnectTimeout, timeoutRange)...)
	return append(errs, validateDuration(path.Child("timeout"), d.Timeout, timeoutRange)...)
}

// ldapMessage strips go-ldap's "LDAP Result Code 201 "Filter Compile Error": " prefix.
func ldapMessage(err error) string {
	if e, ok := err.(*ldap.Error); ok && e.Err != nil {
		return e.Err.Error()
	}
	return fmt.Sprint(err)
}
