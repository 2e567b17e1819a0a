package generators

import (
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// ServicesPolicy names the ValidatingAdmissionPolicy and its binding that limit the
// Services users create in their namespaces. An ExternalName Service is a DNS alias the
// ingress controller follows into any namespace (a user's `backend` could point at
// another user's Service, whose NetworkPolicy admits the ingress controller); a
// LoadBalancer Service and externalIPs (CVE-2020-8554) expose pods or capture traffic
// outside the site's ingress. ClusterIP and NodePort (which OOD's template uses) stay.
const ServicesPolicy = "peruser-services"

// servicesPolicy is the Services policy and its binding, when the site has the
// admission policy on.
func (g *generator) servicesPolicy() []*yaml.Node {
	a := g.site.Spec.Admission
	if !a.ValidatingAdmissionPolicy {
		return nil
	}
	types := a.AllowedServiceTypes()
	quoted := make([]string, len(types))
	for i, t := range types {
		quoted[i] = "'" + t + "'"
	}
	allowed := strings.Join(types, ", ")
	validations := seq(
		mapping(
			"expression", celNode(`object.spec.?type.orValue('ClusterIP') in [`+strings.Join(quoted, ", ")+`]`),
			"message", "Services of this type are not allowed in user namespaces (allowed: "+allowed+")",
			"messageExpression", celNode(`'spec.type ' + object.spec.?type.orValue('ClusterIP') + ' is not allowed in user namespaces (allowed: `+allowed+
				`): ExternalName would let the ingress controller follow a name into another namespace, LoadBalancer exposes pods past the site\'s ingress'`),
			"reason", "Forbidden",
		),
		mapping(
			"expression", celNode(`object.spec.?externalIPs.orValue([]).size() == 0`),
			"message", "spec.externalIPs is not allowed in user namespaces: it captures traffic to those addresses cluster-wide (CVE-2020-8554)",
			"reason", "Forbidden",
		),
	)
	policy := object(admissionAPI, "ValidatingAdmissionPolicy", meta(ServicesPolicy, "", g.siteLabels, nil),
		"spec", mapping(
			"failurePolicy", "Fail",
			"matchConstraints", mapping(
				"namespaceSelector", userNamespaceSelector(),
				"resourceRules", seq(resourceRule("services", "CREATE", "UPDATE")),
			),
			"validations", validations,
		))
	binding := object(admissionAPI, "ValidatingAdmissionPolicyBinding", meta(ServicesPolicy, "", g.siteLabels, nil),
		"spec", mapping(
			"matchResources", mapping("namespaceSelector", userNamespaceSelector()),
			"policyName", ServicesPolicy,
			"validationActions", []string{"Deny"},
		))
	return []*yaml.Node{policy, binding}
}
