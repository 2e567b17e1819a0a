package generators_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apiserver/pkg/admission"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/cel/environment"
	"k8s.io/utils/ptr"

	"github.com/peruser-dev/peruser/generators"
)

// TestPodIdentityPolicyAtScale: a user in 5,000 groups whose pod carries all 5,000 is
// admitted, and one foreign group among them is denied, within the apiserver's cost
// limits (PerCallLimit per expression, RuntimeCELCostBudget per binding). The allowed
// groups are a map built once; a list searched per group costs n² and exceeded the
// limit at about 1,000 groups.
func TestPodIdentityPolicyAtScale(t *testing.T) {
	p, _ := policy(t)
	e := compile(t, p, environment.NewExpressions)
	const n = 5000
	gids := make([]string, 0, n+1)
	groups := make([]int64, 0, n)
	gids = append(gids, "20001")
	for i := range n {
		g := int64(100000 + i)
		gids = append(gids, strconv.FormatInt(g, 10))
		groups = append(groups, g)
	}
	ns := userNamespace(map[string]string{
		generators.AnnotationUID:              "20001",
		generators.AnnotationGID:              "20001",
		generators.AnnotationSupplementalGIDs: strings.Join(gids, ","),
	})
	pod := goodPod()
	pod.Spec.SecurityContext.SupplementalGroups = groups
	msg, cost := e.evaluate(t, request{kind: "Pod", resource: "pods", obj: pod, ns: ns, op: admission.Create})
	assert.Empty(t, msg, "a pod with the user's 5,000 groups must be admitted")
	t.Logf("cost of the validations for %d groups: %d of %d", n, cost, celconfig.RuntimeCELCostBudget)

	foreign := goodPod()
	foreign.Spec.SecurityContext.SupplementalGroups = append(append([]int64{}, groups[:n-1]...), 30002)
	assert.Contains(t, e.admit(t, ns, foreign, admission.Create, ""), "spec.securityContext.supplementalGroups 30002 not allowed")
}

// TestPodIdentityPolicyOptions: the site's options change what the policy requires.
func TestPodIdentityPolicyOptions(t *testing.T) {
	const users = `
  users:
    - {name: oakley, uid: 20001, gid: 20001, groups: [{name: pzs0001, gid: 30001}]}
`
	escalating := func(p *corev1.Pod) {
		p.Spec.InitContainers = []corev1.Container{{Name: "setup", SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false)}}}
		p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(true)}
	}
	unset := func(p *corev1.Pod) { p.Spec.Containers[0].SecurityContext = nil }
	merge := func(p *corev1.Pod) {
		p.Spec.SecurityContext.SupplementalGroupsPolicy = ptr.To(corev1.SupplementalGroupsPolicyMerge)
		for i := range p.Spec.Containers {
			p.Spec.Containers[i].SecurityContext = &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false)}
		}
	}
	for _, tc := range []struct {
		name, spec string
		mutate     func(*corev1.Pod)
		want       string
	}{
		{"baseline site: escalation denied", "namespace: {podSecurity: baseline}\n  admission: {validatingAdmissionPolicy: true}", escalating,
			"container(s) main must set securityContext.allowPrivilegeEscalation: false"},
		{"baseline site: escalation unset denied", "namespace: {podSecurity: baseline}\n  admission: {validatingAdmissionPolicy: true}", unset,
			"container(s) main must set securityContext.allowPrivilegeEscalation: false"},
		{"site without Pod Security labels: escalation denied", "namespace: {podSecurity: \"\"}\n  admission: {validatingAdmissionPolicy: true}", unset,
			"must set securityContext.allowPrivilegeEscalation: false"},
		{"baseline site: no escalation admitted", "namespace: {podSecurity: baseline}\n  admission: {validatingAdmissionPolicy: true}", func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false)}
		}, ""},
		{"strict on by default: Merge denied", "admission: {validatingAdmissionPolicy: true}", merge,
			"supplementalGroupsPolicy must be Strict, got Merge"},
		{"strict turned off: Merge admitted", "admission: {validatingAdmissionPolicy: true, strictSupplementalGroups: false}", merge, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			site := "apiVersion: peruser.dev/v1alpha1\nkind: Site\nmetadata: {name: cel-test}\nspec:\n  " + tc.spec + users
			p, _ := sitePolicy(t, site, generators.PodIdentityPolicy)
			e := compile(t, p, environment.NewExpressions)
			pod := goodPod()
			tc.mutate(pod)
			got := e.admit(t, userNamespace(oakleyAnnotations), pod, admission.Create, "")
			if tc.want == "" {
				assert.Empty(t, got)
				return
			}
			assert.Contains(t, got, tc.want)
		})
	}
}
