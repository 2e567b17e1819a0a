package generators

import (
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/identity"
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
// error, so that a pod is denied with a message that says why: an id is read only when
// it is 1 to 10 digits without a leading zero (so int() cannot overflow) and at most
// 2³¹−1. The allowed groups are a map built once per request, so checking a pod's
// groups costs one lookup each: 5,000 groups on either side stay far within the
// apiserver's CEL cost limit, where a list search would not (admission_scale_test.go).
var PodIdentityVariables = []PolicyVariable{
	{"ann", `namespaceObject.metadata.?annotations.orValue({})`},
	{"uid", idVariable(AnnotationUID)},
	{"gid", idVariable(AnnotationGID)},
	{"gidList", `variables.ann[?'` + AnnotationSupplementalGIDs + `'].orValue('').split(',')`},
	// peruser writes the gids sorted and unique; checking that (linear) is what makes
	// the map safe to build, since a duplicate key would be a CEL error. A malformed
	// annotation allows no group at all.
	{"allowedGIDs", `variables.gidList.all(i, g, g.matches('^[1-9][0-9]{0,9}$') && (i == 0 || int(variables.gidList[i-1]) < int(g))) ? ` +
		`variables.gidList.transformMapEntry(i, g, {g: true}) : {}`},
	{"containers", `object.spec.containers + object.spec.?initContainers.orValue([]) + object.spec.?ephemeralContainers.orValue([])`},
	{"badContainers", `variables.containers.filter(c, ` +
		`c.?securityContext.?runAsUser.orValue(variables.uid) != variables.uid || ` +
		`c.?securityContext.?runAsGroup.orValue(variables.gid) != variables.gid || ` +
		`c.?securityContext.?runAsNonRoot.orValue(true) != true).map(c, c.name)`},
	{"badGroups", `object.spec.?securityContext.?supplementalGroups.orValue([]).filter(g, !(string(g) in variables.allowedGIDs))`},
	{"escalating", `variables.containers.filter(c, c.?securityContext.?allowPrivilegeEscalation.orValue(true) != false).map(c, c.name)`},
}

// idVariable reads a uid or gid annotation: its value, or -1 when it is not a valid id.
func idVariable(annotation string) string {
	v := `variables.ann['` + annotation + `']`
	return `variables.ann[?'` + annotation + `'].orValue('').matches('^[1-9][0-9]{0,9}$') && int(` + v + `) <= ` + strconv.Itoa(identity.MaxID) +
		` ? int(` + v + `) : -1`
}

// namespaceIdentity is the sentence every message ends with, naming what the pod must carry.
const namespaceIdentity = `' (namespace ' + namespaceObject.metadata.name + ' runs as uid ' + string(variables.uid) + ', gid ' + string(variables.gid) + ')'`

// PodIdentityValidations are checked in order; the apiserver reports the first that
// fails, so the most basic come first.
var PodIdentityValidations = []PolicyValidation{
	{
		Expression:        `variables.uid >= 1 && variables.gid >= 1`,
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

// StrictGroupsValidation requires supplementalGroupsPolicy: Strict, which the site's
// MutatingAdmissionPolicy sets when a pod leaves it unset (supplementalgroups.go). With
// Merge, the default, the container runtime adds every group the image's /etc/group
// gives the uid (kubernetes/kubernetes#112879): an image listing its user in another
// project's gid would get that gid and its files.
var StrictGroupsValidation = PolicyValidation{
	Expression:        `object.spec.?securityContext.?supplementalGroupsPolicy.orValue('') == 'Strict'`,
	Message:           "spec.securityContext.supplementalGroupsPolicy must be Strict: with Merge the container runtime adds the groups the image's /etc/group gives the uid",
	MessageExpression: `'spec.securityContext.supplementalGroupsPolicy must be Strict, got ' + object.spec.?securityContext.?supplementalGroupsPolicy.orValue('none') + ": with Merge (the default) the container runtime adds every group the image's /etc/group gives the uid; leave the field unset in a new pod and it is set to Strict"`,
}

// NoEscalationValidation requires allowPrivilegeEscalation: false on every container.
// Pod Security restricted requires it already; on a site whose podSecurity is another
// level the policy does, since a setuid binary in the image could otherwise switch to
// any uid, root included, whatever runAsUser says.
var NoEscalationValidation = PolicyValidation{
	Expression:        `variables.escalating.size() == 0`,
	Message:           "every container, init container and ephemeral container must set securityContext.allowPrivilegeEscalation: false",
	MessageExpression: `'container(s) ' + variables.escalating.join(', ') + ' must set securityContext.allowPrivilegeEscalation: false (a setuid binary could otherwise switch to any uid)'`,
}

// podIdentityValidations are the site's validations: the common ones, then Strict
// supplemental groups unless the site turned it off, then no privilege escalation when
// Pod Security restricted does not already require it.
func (g *generator) podIdentityValidations() []PolicyValidation {
	out := slices.Clone(PodIdentityValidations)
	if g.site.Spec.Admission.StrictSupplementalGroupsOn() {
		out = append(out, StrictGroupsValidation)
	}
	if ps := g.site.Spec.Namespace.PodSecurity; ps == nil || *ps != v1alpha1.DefaultPodSecurity {
		out = append(out, NoEscalationValidation)
	}
	return out
}

// admissionPolicy is the ValidatingAdmissionPolicy that pins every pod in a user
// namespace (any namespace labelled peruser.dev/user) to the namespace's uid and gid,
// and its binding. It checks pod creation and the ephemeral containers subresource
// (kubectl debug); other pod updates cannot change the security context.
func (g *generator) admissionPolicy() []*yaml.Node {
	if !g.site.Spec.Admission.ValidatingAdmissionPolicy {
		return nil
	}
	userNamespaces := userNamespaceSelector()
	variables := make([]*yaml.Node, len(PodIdentityVariables))
	for i, v := range PodIdentityVariables {
		variables[i] = mapping("expression", celNode(v.Expression), "name", v.Name)
	}
	rules := g.podIdentityValidations()
	validations := make([]*yaml.Node, len(rules))
	for i, v := range rules {
		var msgExpr *yaml.Node
		if v.MessageExpression != "" {
			msgExpr = celNode(v.MessageExpression)
		}
		validations[i] = mapping("expression", celNode(v.Expression), "message", v.Message, "messageExpression", msgExpr, "reason", "Forbidden")
	}
	policy := object(admissionAPI, "ValidatingAdmissionPolicy", meta(PodIdentityPolicy, "", g.siteLabels, nil),
		"spec", mapping(
			"failurePolicy", "Fail",
			"matchConstraints", mapping(
				"namespaceSelector", userNamespaces,
				"resourceRules", seq(resourceRule("pods", "CREATE"), resourceRule("pods/ephemeralcontainers", "UPDATE")),
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
