package generators

import (
	"sort"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/identity"
)

// Names of the quota objects. Fixed, not derived from the profile, so that moving a user
// to another profile updates the objects in place instead of leaving old ones behind.
const (
	ResourceQuotaName = "peruser-quota"
	LimitRangeName    = "peruser-limits"
)

// quota is the ResourceQuota and LimitRange of the user's profile; none without one.
func (g *generator) quota(u identity.User, labels map[string]string) []*yaml.Node {
	if u.Profile == "" {
		return nil
	}
	p := g.site.Spec.Profiles[u.Profile]
	var out []*yaml.Node
	if len(p.Quota) > 0 {
		out = append(out, object("v1", "ResourceQuota", meta(ResourceQuotaName, u.Namespace, labels, nil),
			"spec", mapping("hard", resources(p.Quota))))
	}
	if l := p.Limits; l != nil && (len(l.Default)+len(l.DefaultRequest)+len(l.Max)+len(l.Min) > 0) {
		item := mapping(
			"default", optResources(l.Default),
			"defaultRequest", optResources(l.DefaultRequest),
			"max", optResources(l.Max),
			"min", optResources(l.Min),
			"type", "Container")
		out = append(out, object("v1", "LimitRange", meta(LimitRangeName, u.Namespace, labels, nil),
			"spec", mapping("limits", seq(item))))
	}
	return out
}

func optResources(r v1alpha1.Resources) *yaml.Node {
	if len(r) == 0 {
		return nil
	}
	return resources(r)
}

// resources writes quantities in the apiserver's canonical form ("0.5" → "500m"), with
// sorted keys, so a re-apply changes nothing. The spec loader has already checked them.
func resources(r v1alpha1.Resources) *yaml.Node {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	n := mapping()
	for _, k := range keys {
		n.Content = append(n.Content, str(k), str(canonicalQuantity(r[k])))
	}
	return n
}
