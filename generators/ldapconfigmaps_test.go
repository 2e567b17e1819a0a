package generators_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/directory"
	"github.com/peruser-dev/peruser/generators"
	"github.com/peruser-dev/peruser/identity"
)

const configMapSite = `apiVersion: peruser.dev/v1alpha1
kind: Site
metadata: {name: osc}
spec:
  users:
    - {name: jane.doe, uid: 20002, gid: 20002, groups: [{name: pzs0001, gid: 30001}, {name: k8s-users, gid: 30200}, {name: big, gid: 100000}]}
    - {name: oakley, uid: 20001, gid: 20001}
  admission:
    ldapConfigMaps: {namespace: k8-ldap-configmap%s}
`

func TestLDAPConfigMapsMatchK8LDAPConfigMap(t *testing.T) {
	objs := renderSite(t, fmt.Sprintf(configMapSite, ""))
	uid := find(t, objs, "ConfigMap", "k8-ldap-configmap", "user-uid-map")
	assert.Equal(t, "peruser", uid.GetLabels()["app.kubernetes.io/managed-by"])
	data := func(name string) map[string]string {
		return find(t, objs, "ConfigMap", "k8-ldap-configmap", name).GetDataMap()
	}
	janeKey := "user-jane-doe" // OOD's naming: '.' becomes '-'
	require.Contains(t, data("user-uid-map"), janeKey)
	assert.Equal(t, map[string]string{janeKey: "20002", "user-oakley": "20001"}, data("user-uid-map"))
	assert.Equal(t, map[string]string{janeKey: "20002", "user-oakley": "20001"}, data("user-gid-map"))
	assert.Equal(t, map[string]string{janeKey: `["20002","30001","30200","100000"]`, "user-oakley": `["20001"]`}, data("user-gids-map"),
		"numeric order, primary GID included")
	assert.Equal(t, map[string]string{janeKey: `["big","k8s-users","pzs0001"]`, "user-oakley": `[]`}, data("user-groups-map"))

	// Site-wide, before the first user's objects, in name order.
	var names []string
	for _, o := range objs {
		if o.GetKind() == "ConfigMap" {
			names = append(names, o.GetName())
		}
		if o.GetKind() == "Namespace" {
			break
		}
	}
	assert.Equal(t, []string{"user-gid-map", "user-gids-map", "user-groups-map", "user-uid-map"}, names)
}

func TestLDAPConfigMapsKeyPrefixAndSubset(t *testing.T) {
	objs := renderSite(t, fmt.Sprintf(configMapSite, `, keyPrefix: "ood-", maps: [user-uid-map]`))
	uid := find(t, objs, "ConfigMap", "k8-ldap-configmap", "user-uid-map")
	assert.Equal(t, map[string]string{"ood-jane.doe": "20002", "ood-oakley": "20001"}, uid.GetDataMap())
	for _, o := range objs {
		if o.GetKind() == "ConfigMap" {
			assert.Equal(t, "user-uid-map", o.GetName(), "only the listed maps")
		}
	}
}

func generate(t *testing.T, site string, dir *directory.Snapshot) error {
	t.Helper()
	s, users := resolved(t, site, dir)
	objs, err := generators.Generate(s, users, generators.Inputs{})
	if err != nil {
		assert.Nil(t, objs, "nothing partial")
	}
	return err
}

func TestLDAPConfigMapsRefuseInvalidKeys(t *testing.T) {
	site := `apiVersion: peruser.dev/v1alpha1
kind: Site
metadata: {name: osc}
spec:
  users: [{name: sam@example.edu, uid: 20003, gid: 20003}]
  admission: {ldapConfigMaps: {namespace: k8-ldap-configmap, keyPrefix: ""}}
`
	err := generate(t, site, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `spec.admission.ldapConfigMaps.keyPrefix: user "sam@example.edu" gives the key "sam@example.edu", which a ConfigMap cannot hold`)
}

func TestLDAPConfigMapsRefuseAboveOneMiB(t *testing.T) {
	site := `apiVersion: peruser.dev/v1alpha1
kind: Site
metadata: {name: big}
spec:
  directory:
    url: ldap://127.0.0.1:1
    users: {baseDN: "ou=People,dc=example,dc=org"}
    groups: {baseDN: "ou=Groups,dc=example,dc=org"}
  admission: {ldapConfigMaps: {namespace: k8-ldap-configmap%s}}
`
	var users []directory.User
	for i := range 7000 {
		u := directory.User{Name: fmt.Sprintf("user%05d", i), UID: int64(100000 + i), GID: int64(100000 + i)}
		for g := range 5 {
			u.Groups = append(u.Groups, identity.Group{Name: fmt.Sprintf("a-rather-long-project-group-%04d", (i+g)%2000), GID: int64(200000 + (i+g)%2000)})
		}
		users = append(users, u)
	}
	data := directory.NewSnapshot("big", directory.Source{}, users)
	err := generate(t, fmt.Sprintf(site, ""), data)
	require.Error(t, err)
	assert.Regexp(t, `spec.admission.ldapConfigMaps: user-groups-map would hold \d+ bytes for 7000 users, above the 1048576-byte \(1 MiB\) limit of a ConfigMap: refusing to emit a broken object`, err.Error())
	assert.NotContains(t, err.Error(), "user-uid-map")

	// With the two small maps the site renders. Its site-wide part holds them; that part
	// runs every check on all 7,000 users, so the users' own objects need not be built.
	s, ids := resolved(t, fmt.Sprintf(site, ", maps: [user-uid-map, user-gid-map]"), data)
	var maps []string
	require.NoError(t, generators.Visit(s, ids, generators.Inputs{}, true, func(identity.User) bool { return false },
		func(_ *identity.User, batch []*yaml.RNode) error {
			for _, o := range batch {
				if o.GetKind() == "ConfigMap" {
					maps = append(maps, o.GetName())
				}
			}
			return nil
		}))
	assert.ElementsMatch(t, []string{"user-uid-map", "user-gid-map"}, maps)
}
