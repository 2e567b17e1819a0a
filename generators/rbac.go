package generators

import (
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/identity"
)

const rbacAPI = "rbac.authorization.k8s.io/v1"
const rbacGroup = "rbac.authorization.k8s.io"

// roleBindings bind the user to the user ClusterRole and the namespace's default
// ServiceAccount to the initializer ClusterRole, as OOD's hook does.
//
// The User subject carries the namespace, as the hook writes it: RBAC ignores a User's
// namespace, but subjects is an atomic list, so any difference in form would make the
// first server-side apply over the hook's RoleBinding a conflict
// (docs/migrating-from-the-ood-hook.md).
func (g *generator) roleBindings(u identity.User, labels map[string]string) []*yaml.Node {
	r := g.site.Spec.RBAC
	user := mapping("apiGroup", rbacGroup, "kind", "User", "name", r.SubjectPrefix+u.Name, "namespace", u.Namespace)
	sa := mapping("kind", "ServiceAccount", "name", "default", "namespace", u.Namespace)
	return []*yaml.Node{
		roleBinding(u.Slug+"-ood-user", u.Namespace, labels, r.UserClusterRole, user),
		roleBinding(u.Slug+"-ood-initializer", u.Namespace, labels, r.ServiceAccountClusterRole, sa),
	}
}

func roleBinding(name, namespace string, labels map[string]string, clusterRole string, subjects ...*yaml.Node) *yaml.Node {
	return object(rbacAPI, "RoleBinding", meta(name, namespace, labels, nil),
		"roleRef", mapping("apiGroup", rbacGroup, "kind", "ClusterRole", "name", clusterRole),
		"subjects", seq(subjects...))
}

// clusterRoles are the roles bound above, when the site asks peruser to own them.
// Their rules are those of Open OnDemand's Kubernetes setup (its hooks' ondemand.yaml),
// verbs in the same order: verbs are an atomic list, so another order would conflict
// with the ClusterRoles a site applied from that file.
func (g *generator) clusterRoles() []*yaml.Node {
	r := g.site.Spec.RBAC
	if !r.ClusterRoles {
		return nil
	}
	all := []string{"get", "watch", "list", "create", "update", "patch", "delete"}
	return []*yaml.Node{
		clusterRole(r.ServiceAccountClusterRole, g.siteLabels,
			rule([]string{"secrets"}, []string{"get", "create", "update", "patch"}),
			rule([]string{"services", "pods"}, []string{"get"}),
			rule([]string{"configmaps"}, []string{"update", "get", "patch"})),
		clusterRole(r.UserClusterRole, g.siteLabels,
			rule([]string{"services", "pods", "configmaps", "secrets", "pods/log"}, all)),
	}
}

func clusterRole(name string, labels map[string]string, rules ...*yaml.Node) *yaml.Node {
	return object(rbacAPI, "ClusterRole", meta(name, "", labels, nil), "rules", seq(rules...))
}

// rule is a core-group ("") policy rule.
func rule(resources, verbs []string) *yaml.Node {
	return mapping("apiGroups", []string{""}, "resources", resources, "verbs", verbs)
}
