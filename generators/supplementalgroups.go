package generators

import (
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// SupplementalGroupsPolicy names the MutatingAdmissionPolicy and its binding that give
// every new pod in a user namespace supplementalGroupsPolicy: Strict when it sets none.
// Open OnDemand's pod template, like most charts, leaves the field unset, and the
// validating policy (admission.go) denies anything but Strict; this is what lets such
// pods in. A pod that asks for Merge is left alone, so it is denied with a message
// rather than silently changed. MutatingAdmissionPolicy is GA in Kubernetes v1.36 and
// served at admissionregistration.k8s.io/v1.
const SupplementalGroupsPolicy = "peruser-supplemental-groups"

// strictGroupsMutation is the apply configuration the policy merges into a pod.
const strictGroupsMutation = `Object{spec: Object.spec{securityContext: Object.spec.securityContext{supplementalGroupsPolicy: "Strict"}}}`

// supplementalGroupsPolicy is the mutating policy and its binding, when the site has
// the admission policy on and has not turned Strict off.
func (g *generator) supplementalGroupsPolicy() []*yaml.Node {
	if !g.site.Spec.Admission.StrictSupplementalGroupsOn() {
		return nil
	}
	policy := object(admissionAPI, "MutatingAdmissionPolicy", meta(SupplementalGroupsPolicy, "", g.siteLabels, nil),
		"spec", mapping(
			"failurePolicy", "Fail",
			"matchConditions", seq(mapping(
				"expression", celNode(`!has(object.spec.securityContext) || !has(object.spec.securityContext.supplementalGroupsPolicy)`),
				"name", "supplemental-groups-policy-unset",
			)),
			"matchConstraints", mapping(
				"namespaceSelector", userNamespaceSelector(),
				"resourceRules", seq(resourceRule("pods", "CREATE")),
			),
			"mutations", seq(mapping(
				"applyConfiguration", mapping("expression", celNode(strictGroupsMutation)),
				"patchType", "ApplyConfiguration",
			)),
			"reinvocationPolicy", "Never",
		))
	binding := object(admissionAPI, "MutatingAdmissionPolicyBinding", meta(SupplementalGroupsPolicy, "", g.siteLabels, nil),
		"spec", mapping(
			"matchResources", mapping("namespaceSelector", userNamespaceSelector()),
			"policyName", SupplementalGroupsPolicy,
		))
	return []*yaml.Node{policy, binding}
}

// userNamespaceSelector selects every user namespace: those labelled peruser.dev/user.
func userNamespaceSelector() *yaml.Node {
	return mapping("matchExpressions", seq(mapping("key", LabelUser, "operator", "Exists")))
}

// resourceRule is an admission policy's rule for operations on one core (v1) resource.
func resourceRule(resource string, operations ...string) *yaml.Node {
	return mapping("apiGroups", []string{""}, "apiVersions", []string{"v1"}, "operations", operations, "resources", []string{resource})
}
