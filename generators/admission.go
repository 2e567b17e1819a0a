package generators

import (
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

const admissionAPI = "admissionregistration.k8s.io/v1"

// PodIdentityPolicy names the ValidatingAdmissionPolicy and its binding. The policy
// reads everything it needs from the namespace of each pod (the annotations written
// by namespace.go), so one policy serves every user and every site in a cluster.
const PodIdentityPolicy = "peruser-pod-identity"

// PolicyVariable is a named CEL expression of the policy.
type PolicyVariable struct{ Name, Expression string }

// PolicyValidation is one rule of the policy: pods for which Expression is false are
// denied with MessageExpression's value (Message if that fails to evaluate).
type PolicyValidation struct{ Expression, Message, MessageExpression string }

// PodIdentityVariables are evaluated lazily, at most once per request. Missing or
// malformed namespace annotations become -1 (which no pod can match), never a CEL
// error, so that a pod is denied with a message that says why.
var PodIdentityVariables = []PolicyVariable{
	{"ann", `namespaceObject.metadata.?annotations.orValue({})`},
	{"uid", `variables.ann[?'` + AnnotationUID + `'].orValue('').matches('^[0-9]+$') ? int(variables.ann['` + AnnotationUID + `']) : -1`},
	{"gid", `variables.ann[?'` + AnnotationGID + `'].orValue('').matches('^[0-9]+$') ? int(variables.ann['` + AnnotationGID + `']) : -1`},
	{"allowedGIDs", `variables.ann[?'` + AnnotationSupplementalGIDs + `'].orValue('').split(',')`},
	{"containers", `object.spec.containers + object.spec.?initContainers.orValue([]) + object.spec.?ephemeralContainers.orValue([])`},
	{"badContainers", `variables.containers.filter(c, ` +
		`c.?securityContext.?runAsUser.orValue(variables.uid) != variables.uid || ` +
		`c.?securityContext.?runAsGroup.orValue(variables.gid) != variables.gid || ` +
		`c.?securityContext.?runAsNonRoot.orValue(true) != true).map(c, c.name)`},
	{"badGroups", `object.spec.?securityContext.?supplementalGroups.orValue([]).filter(g, !(string(g) in variables.allowedGIDs))`},
}

// namespaceIdentity is the sentence every message ends with, naming what the pod must carry.
const namespaceIdentity = `' (namespace ' + namespaceObject.metadata.name + ' runs as uid ' + string(variables.uid) + ', gid ' + string(variables.gid) + ')'`

// PodIdentityValidations are checked in order; the apiserver reports the first that
// fails, so the most basic come first.
var PodIdentityValidations = []PolicyValidation{
	{
		Expression:        `variables.uid >= 0 && variables.gid >= 0`,
		Message:           "the namespace lacks valid " + AnnotationUID + " and " + AnnotationGID + " annotations; peruser writes them on every user namespace",
		MessageExpression: `'namespace ' + namespaceObject.metadata.name + ' lacks valid ` + AnnotationUID + ` and ` + AnnotationGID + ` annotations; peruser writes them on every user namespace'`,
	},
	{
		Expression:        `has(object.spec.securityContext)`,
		Message:           "the pod has no spec.securityContext: set runAsUser, runAsGroup and fsGroup to the namespace's uid and gid, and runAsNonRoot: true",
		MessageExpression: `'the pod has no spec.securityContext: set runAsUser: ' + string(variables.uid) + ', runAsGroup: ' + string(variables.gid) + ', fsGroup: ' + string(variables.gid) + ' and runAsNonRoot: true' + ` + namespaceIdentity,
	},
	{
		Expression:        `object.spec.?securityContext.?runAsUser.orValue(-1) == variables.uid`,
		Message:           "spec.securityContext.runAsUser must be the namespace's uid",
		MessageExpression: `'spec.securityContext.runAsUser must be ' + string(variables.uid) + ', got ' + object.spec.?securityContext.?runAsUser.optMap(v, string(v)).orValue('none') + ` + namespaceIdentity,
	},
	{
		Expression:        `object.spec.?securityContext.?runAsGroup.orValue(-1) == variables.gid`,
		Message:           "spec.securityContext.runAsGroup must be the namespace's gid",
		MessageExpression: `'spec.securityContext.runAsGroup must be ' + string(variables.gid) + ', got ' + object.spec.?securityContext.?runAsGroup.optMap(v, string(v)).orValue('none') + ` + namespaceIdentity,
	},
	{
		Expression:        `object.spec.?securityContext.?fsGroup.orValue(-1) == variables.gid`,
		Message:           "spec.securityContext.fsGroup must be the namespace's gid",
		MessageExpression: `'spec.securityContext.fsGroup must be ' + string(variables.gid) + ', got ' + object.spec.?securityContext.?fsGroup.optMap(v, string(v)).orValue('none') + ` + namespaceIdentity,
	},
	{
		Expression: `object.spec.?securityContext.?runAsNonRoot.orValue(false) == true`,
		Message:    "spec.securityContext.runAsNonRoot must be true",
	},
	{
		Expression:        `variables.badContainers.size() == 0`,
		Message:           "a container, init container or ephemeral container sets runAsUser or runAsGroup other than the namespace's uid and gid, or runAsNonRoot: false",
		MessageExpression: `'container(s) ' + variables.badContainers.join(', ') + " set securityContext.runAsUser or runAsGroup other than the namespace's, or runAsNonRoot: false; remove those fields or set them to the pod's values" + ` + namespaceIdentity,
	},
	{
		Expression:        `variables.badGroups.size() == 0`,
		Message:           "spec.securityContext.supplementalGroups holds a group the user is not a member of",
		MessageExpression: `'spec.securityContext.supplementalGroups ' + variables.badGroups.map(g, string(g)).join(',') + ' not allowed in namespace ' + namespaceObject.metadata.name + ' (allowed: ' + variables.ann[?'` + AnnotationSupplementalGIDs + `'].orValue('none') + ')'`,
	},
}

// admissionPolicy is the ValidatingAdmissionPolicy that pins every pod in a user
// namespace (any namespace labelled peruser.dev/user) to the namespace's uid and gid,
// and its binding. It checks pod creation and the ephemeral containers subresource
// (kubectl debug); other pod updates cannot change the security context.
func (g *generator) admissionPolicy() []*yaml.Node {
	if !g.site.Spec.Admission.ValidatingAdmissionPolicy {
		return nil
	}
	userNamespaces := mapping("matchExpressions", seq(mapping("key", LabelUser, "operator", "Exists")))
	variables := make([]*yaml.Node, len(PodIdentityVariables))
	for i, v := range PodIdentityVariables {
		variables[i] = mapping("expression", celNode(v.Expression), "name", v.Name)
	}
	validations := make([]*yaml.Node, len(PodIdentityValidations))
	for i, v := range PodIdentityValidations {
		var msgExpr *yaml.Node
		if v.MessageExpression != "" {
			msgExpr = celNode(v.MessageExpression)
		}
		validations[i] = mapping("expression", celNode(v.Expression), "message", v.Message, "messageExpression", msgExpr, "reason", "Forbidden")
	}
	podRule := func(operation, resource string) *yaml.Node {
		return mapping("apiGroups", []string{""}, "apiVersions", []string{"v1"}, "operations", []string{operation}, "resources", []string{resource})
	}
	policy := object(admissionAPI, "ValidatingAdmissionPolicy", meta(PodIdentityPolicy, "", g.siteLabels, nil),
		"spec", mapping(
			"failurePolicy", "Fail",
			"matchConstraints", mapping(
				"namespaceSelector", userNamespaces,
				"resourceRules", seq(podRule("CREATE", "pods"), podRule("UPDATE", "pods/ephemeralcontainers")),
			),
			"validations", seq(validations...),
			"variables", seq(variables...),
		))
	binding := object(admissionAPI, "ValidatingAdmissionPolicyBinding", meta(PodIdentityPolicy, "", g.siteLabels, nil),
		"spec", mapping(
			"matchResources", mapping("namespaceSelector", userNamespaces),
			"policyName", PodIdentityPolicy,
			"validationActions", []string{"Deny"},
		))
	return []*yaml.Node{policy, binding}
}

// celNode writes a CEL expression as a literal block when it holds quotes, which YAML
// would otherwise double, so that reviewers read the expression as CEL sees it.
func celNode(expr string) *yaml.Node {
	n := str(expr)
	if strings.ContainsAny(expr, `'"`) {
		n.Style = yaml.LiteralStyle
	}
	return n
}
