package generators_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	celgo "github.com/google/cel-go/cel"
	celtypes "github.com/google/cel-go/common/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	admissioncel "k8s.io/apiserver/pkg/admission/plugin/cel"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/cel/environment"
	"k8s.io/utils/ptr"

	"github.com/peruser-dev/peruser/generators"
)

// The ValidatingAdmissionPolicy is evaluated here the way kube-apiserver v1.37 does it:
// the same CEL environment (environment.MustBaseEnvSet), the same variable composition
// (admissioncel.CompositedCompiler), the same namespaceObject projection, and the same
// decision rule (the first validation that is not true denies, with its
// messageExpression's value, else its message) and the same cost budget (one
// RuntimeCELCostBudget for the validations, then the message expressions). The e2e
// suite runs it on a real apiserver as well.

const vapSite = `apiVersion: peruser.dev/v1alpha1
kind: Site
metadata: {name: cel-test}
spec:
  users:
    - {name: oakley, uid: 20001, gid: 20001, groups: [{name: pzs0001, gid: 30001}]}
  admission: {validatingAdmissionPolicy: true}
`

// policy renders vapSite and returns the emitted policy, decoded into the API type.
func policy(t *testing.T) (*admissionregistrationv1.ValidatingAdmissionPolicy, *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
	t.Helper()
	return sitePolicy(t, vapSite, generators.PodIdentityPolicy)
}

// sitePolicy renders a site and returns its ValidatingAdmissionPolicy name and binding.
func sitePolicy(t *testing.T, site, name string) (*admissionregistrationv1.ValidatingAdmissionPolicy, *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
	t.Helper()
	var (
		p admissionregistrationv1.ValidatingAdmissionPolicy
		b admissionregistrationv1.ValidatingAdmissionPolicyBinding
	)
	for _, o := range renderSite(t, site) {
		if o.GetName() != name {
			continue
		}
		js, err := o.MarshalJSON()
		require.NoError(t, err)
		switch o.GetKind() {
		case "ValidatingAdmissionPolicy":
			require.NoError(t, json.Unmarshal(js, &p))
		case "ValidatingAdmissionPolicyBinding":
			require.NoError(t, json.Unmarshal(js, &b))
		}
	}
	require.Equal(t, name, p.Name, "policy not emitted")
	require.Equal(t, name, b.Spec.PolicyName, "binding not emitted")
	return &p, &b
}

type accessor struct {
	expr  string
	types []*celgo.Type
}

func (a accessor) GetExpression() string      { return a.expr }
func (a accessor) ReturnTypes() []*celgo.Type { return a.types }

type namedAccessor struct {
	accessor
	name string
}

func (a namedAccessor) GetName() string { return a.name }

// evaluator is a compiled policy.
type evaluator struct {
	validations []admissionregistrationv1.Validation
	rules       admissioncel.ConditionEvaluator
	messages    admissioncel.ConditionEvaluator
}

func compile(t *testing.T, p *admissionregistrationv1.ValidatingAdmissionPolicy, mode environment.Type) *evaluator {
	t.Helper()
	env := environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion())
	c, err := admissioncel.NewCompositedCompiler(env)
	require.NoError(t, err)
	opts := admissioncel.OptionalVariableDeclarations{HasAuthorizer: true}
	vars := make([]admissioncel.NamedExpressionAccessor, len(p.Spec.Variables))
	for i, v := range p.Spec.Variables {
		vars[i] = namedAccessor{accessor{v.Expression, []*celgo.Type{celgo.AnyType, celgo.DynType}}, v.Name}
	}
	c.CompileAndStoreVariables(vars, opts, mode)
	rules := make([]admissioncel.ExpressionAccessor, len(p.Spec.Validations))
	messages := make([]admissioncel.ExpressionAccessor, len(p.Spec.Validations))
	for i, v := range p.Spec.Validations {
		rules[i] = accessor{v.Expression, []*celgo.Type{celgo.BoolType}}
		if v.MessageExpression != "" {
			messages[i] = accessor{v.MessageExpression, []*celgo.Type{celgo.StringType}}
		} else {
			messages[i] = nil
		}
	}
	e := &evaluator{
		validations: p.Spec.Validations,
		rules:       c.CompileCondition(rules, opts, mode),
		messages:    c.CompileCondition(compact(messages), admissioncel.OptionalVariableDeclarations{}, mode),
	}
	for _, err := range append(e.rules.CompilationErrors(), e.messages.CompilationErrors()...) {
		t.Errorf("compilation: %v", err)
	}
	return e
}

// compact keeps the message expressions' positions: a nil accessor would not compile,
// so a constant stands in and is ignored below.
func compact(in []admissioncel.ExpressionAccessor) []admissioncel.ExpressionAccessor {
	out := make([]admissioncel.ExpressionAccessor, len(in))
	for i, a := range in {
		if a == nil {
			a = accessor{"''", []*celgo.Type{celgo.StringType}}
		}
		out[i] = a
	}
	return out
}

// admit evaluates the policy for pod in ns and returns "" when admitted, else the
// message the apiserver would return. A CEL evaluation error fails the test: the
// policy must deny with a message, never with an error.
func (e *evaluator) admit(t *testing.T, ns *corev1.Namespace, pod *corev1.Pod, op admission.Operation, subresource string) string {
	t.Helper()
	r := request{kind: "Pod", resource: "pods", subresource: subresource, obj: pod, ns: ns, op: op}
	if op == admission.Update {
		r.old = pod.DeepCopy()
	}
	msg, _ := e.evaluate(t, r)
	return msg
}

// request is what the apiserver evaluates a policy on: an object of a kind in a
// namespace, for an operation (old is the stored object of an UPDATE).
type request struct {
	kind, resource, subresource string
	obj, old                    runtime.Object
	ns                          *corev1.Namespace
	op                          admission.Operation
}

// evaluate runs the policy on r as kube-apiserver's validator does: the validations
// within RuntimeCELCostBudget, then the message expressions within what they left. It
// returns the message of the first validation that is not true ("" when all are), and
// the CEL cost spent.
func (e *evaluator) evaluate(t *testing.T, r request) (string, int64) {
	t.Helper()
	gvk := schema.GroupVersionKind{Version: "v1", Kind: r.kind}
	gvr := schema.GroupVersionResource{Version: "v1", Resource: r.resource}
	name := r.obj.(metav1.Object).GetName()
	attr := admission.NewAttributesRecord(r.obj, r.old, gvk, r.ns.Name, name, gvr, r.subresource, r.op, nil, false, nil)
	versioned := &admission.VersionedAttributes{Attributes: attr, VersionedObject: admission.NewLazyObject(r.obj), VersionedKind: gvk}
	if r.old != nil {
		versioned.VersionedOldObject = admission.NewLazyObject(r.old)
	}
	req := admissioncel.CreateAdmissionRequest(attr, metav1.GroupVersionResource(gvr), metav1.GroupVersionKind(gvk))
	nsObj := admissioncel.CreateNamespaceObject(r.ns)
	ctx := context.Background()
	results, left, err := e.rules.ForInput(ctx, versioned, req, admissioncel.OptionalVariableBindings{}, nsObj, celconfig.RuntimeCELCostBudget)
	require.NoError(t, err)
	messages, left, err := e.messages.ForInput(ctx, versioned, req, admissioncel.OptionalVariableBindings{}, nsObj, left)
	require.NoError(t, err)
	cost := celconfig.RuntimeCELCostBudget - left
	for i, res := range results {
		require.NoError(t, res.Error, "validation %d (%s)", i, e.validations[i].Expression)
		if res.EvalResult == celtypes.True {
			continue
		}
		if e.validations[i].MessageExpression != "" {
			m := messages[i]
			require.NoError(t, m.Error, "messageExpression %d", i)
			if s, ok := m.EvalResult.Value().(string); ok && strings.TrimSpace(s) != "" {
				return s, cost
			}
		}
		return e.validations[i].Message, cost
	}
	return "", cost
}

func userNamespace(annotations map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:        "user-oakley",
		Labels:      map[string]string{generators.LabelUser: "oakley"},
		Annotations: annotations,
	}}
}

var oakleyAnnotations = map[string]string{
	generators.AnnotationUID:              "20001",
	generators.AnnotationGID:              "20001",
	generators.AnnotationSupplementalGIDs: "20001,30001",
}

// goodPod is what OOD (and peruser's post-renderer) create: identity at pod level only.
func goodPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "jupyter", Namespace: "user-oakley"},
		Spec: corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{
				RunAsUser:          ptr.To[int64](20001),
				RunAsGroup:         ptr.To[int64](20001),
				FSGroup:            ptr.To[int64](20001),
				RunAsNonRoot:       ptr.To(true),
				SupplementalGroups: []int64{30001},
				// What the site's MutatingAdmissionPolicy sets when a pod leaves it unset.
				SupplementalGroupsPolicy: ptr.To(corev1.SupplementalGroupsPolicyStrict),
			},
			Containers: []corev1.Container{{Name: "main", Image: "jupyter"}},
		},
	}
}

func TestPodIdentityPolicy(t *testing.T) {
	p, _ := policy(t)
	tests := []struct {
		name        string
		annotations map[string]string
		mutate      func(*corev1.Pod)
		op          admission.Operation
		subresource string
		want        string // "" admits; else a substring of the denial
	}{
		{name: "pod-level identity admitted"},
		{name: "no supplemental groups admitted", mutate: func(p *corev1.Pod) { p.Spec.SecurityContext.SupplementalGroups = nil }},
		{name: "primary gid as supplemental group admitted", mutate: func(p *corev1.Pod) { p.Spec.SecurityContext.SupplementalGroups = []int64{20001, 30001} }},
		{name: "matching container values admitted", mutate: func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{RunAsUser: ptr.To[int64](20001), RunAsGroup: ptr.To[int64](20001), RunAsNonRoot: ptr.To(true)}
			p.Spec.InitContainers = []corev1.Container{{Name: "init", SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false)}}}
		}},
		{name: "no securityContext", mutate: func(p *corev1.Pod) { p.Spec.SecurityContext = nil },
			want: "the pod has no spec.securityContext: set runAsUser: 20001, runAsGroup: 20001, fsGroup: 20001 and runAsNonRoot: true (namespace user-oakley runs as uid 20001, gid 20001)"},
		{name: "empty securityContext", mutate: func(p *corev1.Pod) { p.Spec.SecurityContext = &corev1.PodSecurityContext{} },
			want: "spec.securityContext.runAsUser must be 20001, got none"},
		{name: "root", mutate: func(p *corev1.Pod) { p.Spec.SecurityContext.RunAsUser = ptr.To[int64](0) },
			want: "spec.securityContext.runAsUser must be 20001, got 0 (namespace user-oakley runs as uid 20001, gid 20001)"},
		{name: "another user's uid", mutate: func(p *corev1.Pod) { p.Spec.SecurityContext.RunAsUser = ptr.To[int64](20002) },
			want: "runAsUser must be 20001, got 20002"},
		{name: "wrong runAsGroup", mutate: func(p *corev1.Pod) { p.Spec.SecurityContext.RunAsGroup = ptr.To[int64](0) },
			want: "spec.securityContext.runAsGroup must be 20001, got 0"},
		{name: "missing fsGroup", mutate: func(p *corev1.Pod) { p.Spec.SecurityContext.FSGroup = nil },
			want: "spec.securityContext.fsGroup must be 20001, got none"},
		{name: "wrong fsGroup", mutate: func(p *corev1.Pod) { p.Spec.SecurityContext.FSGroup = ptr.To[int64](30001) },
			want: "spec.securityContext.fsGroup must be 20001, got 30001"},
		{name: "runAsNonRoot missing", mutate: func(p *corev1.Pod) { p.Spec.SecurityContext.RunAsNonRoot = nil },
			want: "spec.securityContext.runAsNonRoot must be true"},
		{name: "runAsNonRoot false", mutate: func(p *corev1.Pod) { p.Spec.SecurityContext.RunAsNonRoot = ptr.To(false) },
			want: "spec.securityContext.runAsNonRoot must be true"},
		{name: "container runs as root", mutate: func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{RunAsUser: ptr.To[int64](0)}
		}, want: "container(s) main set securityContext.runAsUser or runAsGroup other than the namespace's"},
		{name: "container runAsNonRoot false", mutate: func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{RunAsNonRoot: ptr.To(false)}
		}, want: "container(s) main set"},
		{name: "init container with another group", mutate: func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{
				{Name: "fine", SecurityContext: &corev1.SecurityContext{RunAsUser: ptr.To[int64](20001)}},
				{Name: "setup", SecurityContext: &corev1.SecurityContext{RunAsGroup: ptr.To[int64](0)}},
			}
		}, want: "container(s) setup set"},
		{name: "ephemeral container as root (kubectl debug)", op: admission.Update, subresource: "ephemeralcontainers", mutate: func(p *corev1.Pod) {
			p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
				Name: "debugger", SecurityContext: &corev1.SecurityContext{RunAsUser: ptr.To[int64](0)},
			}}}
		}, want: "container(s) debugger set"},
		{name: "ephemeral container inheriting the pod's identity", op: admission.Update, subresource: "ephemeralcontainers", mutate: func(p *corev1.Pod) {
			p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debugger"}}}
		}},
		{name: "supplemental group not a member of", mutate: func(p *corev1.Pod) { p.Spec.SecurityContext.SupplementalGroups = []int64{30001, 0, 30002} },
			want: "spec.securityContext.supplementalGroups 0,30002 not allowed in namespace user-oakley (allowed: 20001,30001)"},
		{name: "supplementalGroupsPolicy Merge", mutate: func(p *corev1.Pod) {
			p.Spec.SecurityContext.SupplementalGroupsPolicy = ptr.To(corev1.SupplementalGroupsPolicyMerge)
		}, want: "spec.securityContext.supplementalGroupsPolicy must be Strict, got Merge"},
		{name: "supplementalGroupsPolicy unset (the mutating policy sets it first)", mutate: func(p *corev1.Pod) {
			p.Spec.SecurityContext.SupplementalGroupsPolicy = nil
		}, want: "spec.securityContext.supplementalGroupsPolicy must be Strict, got none"},
		{name: "no escalation check on a restricted site", mutate: func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(true)}
		}},
		{name: "a 20-digit uid annotation is a clear deny", annotations: map[string]string{generators.AnnotationUID: "18446744073709551617", generators.AnnotationGID: "20001"},
			want: "namespace user-oakley lacks valid peruser.dev/uid"},
		{name: "a uid annotation above 2^31-1", annotations: map[string]string{generators.AnnotationUID: "2147483648", generators.AnnotationGID: "20001"},
			want: "namespace user-oakley lacks valid peruser.dev/uid"},
		{name: "a gid annotation with a leading zero", annotations: map[string]string{generators.AnnotationUID: "20001", generators.AnnotationGID: "020001"},
			want: "namespace user-oakley lacks valid peruser.dev/uid"},
		{name: "a uid annotation of 0", annotations: map[string]string{generators.AnnotationUID: "0", generators.AnnotationGID: "20001"},
			want: "namespace user-oakley lacks valid peruser.dev/uid"},
		{name: "a malformed gid list (duplicates, unsorted, empty, not a number) allows no group, without a CEL error", annotations: map[string]string{
			generators.AnnotationUID: "20001", generators.AnnotationGID: "20001", generators.AnnotationSupplementalGIDs: "30001,30001,20001,,x"},
			want: "supplementalGroups 30001 not allowed in namespace user-oakley"},
		{name: "namespace without annotations", annotations: map[string]string{},
			want: "namespace user-oakley lacks valid peruser.dev/uid and peruser.dev/gid annotations"},
		{name: "namespace with a malformed uid", annotations: map[string]string{generators.AnnotationUID: "20001; root", generators.AnnotationGID: "20001"},
			want: "namespace user-oakley lacks valid peruser.dev/uid"},
		{name: "namespace without supplemental gids denies every group", annotations: map[string]string{generators.AnnotationUID: "20001", generators.AnnotationGID: "20001"},
			want: "supplementalGroups 30001 not allowed in namespace user-oakley (allowed: none)"},
	}
	for _, mode := range []environment.Type{environment.NewExpressions, environment.StoredExpressions} {
		e := compile(t, p, mode)
		for _, tt := range tests {
			t.Run(string(mode)+"/"+tt.name, func(t *testing.T) {
				ann := tt.annotations
				if ann == nil {
					ann = oakleyAnnotations
				}
				pod := goodPod()
				if tt.mutate != nil {
					tt.mutate(pod)
				}
				op := tt.op
				if op == "" {
					op = admission.Create
				}
				got := e.admit(t, userNamespace(ann), pod, op, tt.subresource)
				t.Logf("decision: %q", got)
				if tt.want == "" {
					assert.Empty(t, got, "expected the pod to be admitted")
					return
				}
				assert.Contains(t, got, tt.want)
			})
		}
	}
}

func TestPodIdentityPolicyShape(t *testing.T) {
	p, b := policy(t)
	assert.Equal(t, admissionregistrationv1.Fail, *p.Spec.FailurePolicy)
	require.NotNil(t, p.Spec.MatchConstraints)
	sel := p.Spec.MatchConstraints.NamespaceSelector
	require.NotNil(t, sel)
	assert.Equal(t, []metav1.LabelSelectorRequirement{{Key: generators.LabelUser, Operator: metav1.LabelSelectorOpExists}}, sel.MatchExpressions)
	var rules []string
	for _, r := range p.Spec.MatchConstraints.ResourceRules {
		for _, op := range r.Operations {
			for _, res := range r.Resources {
				rules = append(rules, string(op)+" "+res)
			}
		}
	}
	assert.ElementsMatch(t, []string{"CREATE pods", "UPDATE pods/ephemeralcontainers"}, rules)
	assert.Equal(t, []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny}, b.Spec.ValidationActions)
	assert.Equal(t, sel, b.Spec.MatchResources.NamespaceSelector)
}
