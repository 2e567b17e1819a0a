package generators

import (
	"encoding/json"
	"fmt"
	"strconv"

	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/identity"
)

// MaxConfigMapData is the apiserver's limit on a ConfigMap's data (keys and values).
const MaxConfigMapData = 1 << 20

// ldapConfigMaps are the ConfigMaps OSC's k8-ldap-configmap writes, for sites that
// keep its Kyverno policies: one key per user, valued as that tool values them —
//
//	user-uid-map     "20001"                      the uidNumber
//	user-gid-map     "20001"                      the primary gidNumber
//	user-gids-map    ["20001","30001","30200"]    every GID (primary included), numeric order
//	user-groups-map  ["k8s-users","pzs0001"]      every group name, sorted
//
// keyed by the user's namespace name (what the policies look up with
// request.namespace), or by keyPrefix + username like its --user-prefix. A map that
// would exceed the ConfigMap limit is an error, never a truncated map.
func (g *generator) ldapConfigMaps(users []identity.User) ([]*yaml.Node, error) {
	opts := g.site.Spec.Admission.LDAPConfigMaps
	if opts == nil {
		return nil, nil
	}
	path := field.Path("spec").Child("admission").Child("ldapConfigMaps")
	want := map[string]bool{}
	for _, m := range opts.Maps {
		want[m] = true
	}

	keys := make([]string, len(users))
	var errs field.List
	for i, u := range users {
		keys[i] = u.Namespace
		if opts.KeyPrefix != nil {
			keys[i] = *opts.KeyPrefix + u.Name
		}
		for _, msg := range validation.IsConfigMapKey(keys[i]) {
			errs = append(errs, field.Errorf(path.Child("keyPrefix").String(), "user %q gives the key %q, which a ConfigMap cannot hold: %s (leave keyPrefix unset to key by namespace name)", u.Name, keys[i], msg))
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}

	values := map[string]func(u identity.User) string{
		v1alpha1.UserUIDMap: func(u identity.User) string { return strconv.FormatInt(u.UID, 10) },
		v1alpha1.UserGIDMap: func(u identity.User) string { return strconv.FormatInt(u.GID, 10) },
		v1alpha1.UserGIDsMap: func(u identity.User) string {
			gids := u.SupplementalGIDs()
			s := make([]string, len(gids))
			for i, gid := range gids {
				s[i] = strconv.FormatInt(gid, 10)
			}
			return jsonArray(s)
		},
		v1alpha1.UserGroupsMap: func(u identity.User) string { return jsonArray(u.GroupNames()) },
	}
	var out []*yaml.Node
	for _, name := range v1alpha1.LDAPConfigMapNames {
		if len(want) > 0 && !want[name] {
			continue
		}
		data := make(map[string]string, len(users))
		size := 0
		for i, u := range users {
			v := values[name](u)
			data[keys[i]] = v
			size += len(keys[i]) + len(v)
		}
		if size > MaxConfigMapData {
			errs = append(errs, field.Errorf(path.String(),
				"%s would hold %d bytes for %d users, above the %d-byte (1 MiB) limit of a ConfigMap: refusing to emit a broken object; "+
					"leave it out of maps, or use admission.validatingAdmissionPolicy, which needs no ConfigMap",
				name, size, len(users), MaxConfigMapData))
			continue
		}
		out = append(out, object("v1", "ConfigMap", meta(name, opts.Namespace, g.siteLabels, nil), "data", data))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// jsonArray is a JSON array of strings, [] when empty (never null).
func jsonArray(s []string) string {
	if len(s) == 0 {
		return "[]"
	}
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("marshalling strings: %v", err)) // cannot happen
	}
	return string(b)
}
