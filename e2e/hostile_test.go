package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	"github.com/peruser-dev/peruser/e2e/harness"
	"github.com/peruser-dev/peruser/internal/testenv"
)

// Who must refuse an attempt (harness.Verdict); "" means it must be admitted.
const (
	byRBAC        = "RBAC"
	byPodSecurity = "PodSecurity"
	byValidation  = "validation"
	byIdentity    = "peruser-pod-identity"
	byServices    = "peruser-services"
	admitted      = ""
)

// baselinePolicy is the name under which the suite loads the pod identity policy of a
// podSecurity: baseline site, bound to one scratch namespace only.
const baselinePolicy = "peruser-pod-identity-baseline-e2e"

// attempt is one thing a hostile user tries, as that user (impersonation), with the
// verdict it must get and who must give it.
type attempt struct {
	name string
	who  string
	try  func(ctx context.Context, as *harness.Cluster) error
}

// TestHostileUser: the example site's user tries, as themself, every way this suite knows
// to run as someone else, reach another user's namespace or traffic, or get a group that
// is not theirs. Every attempt that must be denied must be denied, and by the party the
// table names (RBAC, Pod Security, one of peruser's admission policies, or the API's own
// validation); the admitted ones must be admitted. The table is logged as it is judged.
func TestHostileUser(t *testing.T) {
	s := appliedSite(t)
	c := testCluster(t)
	ctx := testContext(t)
	userNS := s.userNamespace(t, exampleUser)
	own, other := userNS.GetName(), s.otherUserNamespace(t, exampleUser).GetName()
	id := namespaceIdentity(t, userNS)
	as, err := c.As(s.subject(exampleUser))
	if err != nil {
		t.Fatal(err)
	}
	waitForPolicy(ctx, t, c, restrictedPod("vap-e2e", own, identity{UID: id.UID + 1, GID: id.GID, Groups: id.Groups}))
	waitForMutation(ctx, t, as, own, id)
	baselineNS := baselineNamespace(ctx, t, c, s, userNS)

	pod := func(ns string, bend func(*corev1.Pod)) func(context.Context, *harness.Cluster) error {
		return func(ctx context.Context, as *harness.Cluster) error {
			p := restrictedPod("hostile", ns, id)
			bend(p)
			_, err := as.Client.CoreV1().Pods(ns).Create(ctx, p, dryRun)
			return err
		}
	}
	service := func(ns string, bend func(*corev1.Service)) func(context.Context, *harness.Cluster) error {
		return func(ctx context.Context, as *harness.Cluster) error {
			svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "backend", Namespace: ns},
				Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 8080}}, Selector: map[string]string{"app": "x"}}}
			bend(svc)
			_, err := as.Client.CoreV1().Services(ns).Create(ctx, svc, dryRun)
			return err
		}
	}
	noChange := func(*corev1.Pod) {}
	container := func(sc *corev1.SecurityContext) func(*corev1.Pod) {
		return func(p *corev1.Pod) { p.Spec.Containers[0].SecurityContext = sc }
	}
	attempts := []attempt{
		// Pinning (held before this suite; kept so that it keeps holding).
		{"a pod as oneself", admitted, pod(own, noChange)},
		{"a pod as root", byPodSecurity, pod(own, func(p *corev1.Pod) { p.Spec.SecurityContext.RunAsUser = ptr.To[int64](0) })},
		{"a pod as another uid", byIdentity, pod(own, func(p *corev1.Pod) { p.Spec.SecurityContext.RunAsUser = ptr.To(id.UID + 1) })},
		{"a pod with another gid", byIdentity, pod(own, func(p *corev1.Pod) { p.Spec.SecurityContext.RunAsGroup = ptr.To(id.GID + 1) })},
		{"a pod with another fsGroup", byIdentity, pod(own, func(p *corev1.Pod) { p.Spec.SecurityContext.FSGroup = ptr.To(id.GID + 1) })},
		{"a pod with a foreign supplemental group", byIdentity, pod(own, func(p *corev1.Pod) {
			p.Spec.SecurityContext.SupplementalGroups = append(p.Spec.SecurityContext.SupplementalGroups, id.foreignGID())
		})},
		{"a container as another uid", byIdentity, pod(own, func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext.RunAsUser = ptr.To(id.UID + 1)
		})},
		{"an init container in group 0", byIdentity, pod(own, func(p *corev1.Pod) {
			ic := restrictedContainer("init", "100m", "100m")
			ic.SecurityContext.RunAsGroup = ptr.To[int64](0)
			p.Spec.InitContainers = []corev1.Container{ic}
		})},
		{"a pod in another user's namespace", byRBAC, pod(other, noChange)},
		{"an ephemeral container (kubectl debug)", byRBAC, func(ctx context.Context, as *harness.Cluster) error {
			target := existingPod(ctx, t, c, own, id)
			target.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
				Name: "debugger", Image: "busybox", SecurityContext: &corev1.SecurityContext{RunAsUser: ptr.To[int64](0)}}}}
			_, err := as.Client.CoreV1().Pods(own).UpdateEphemeralContainers(ctx, target.Name, target, metav1.UpdateOptions{DryRun: []string{metav1.DryRunAll}})
			return err
		}},
		{"rewrite the own namespace's uid annotation", byRBAC, func(ctx context.Context, as *harness.Cluster) error {
			patch := []byte(`{"metadata":{"annotations":{"` + annotUID + `":"0"}}}`)
			_, err := as.Client.CoreV1().Namespaces().Patch(ctx, own, types.MergePatchType, patch, metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}})
			return err
		}},
		{"delete the admission policy", byRBAC, func(ctx context.Context, as *harness.Cluster) error {
			return as.Client.AdmissionregistrationV1().ValidatingAdmissionPolicies().Delete(ctx, byIdentity, metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}})
		}},
		{"read another user's Secrets", byRBAC, func(ctx context.Context, as *harness.Cluster) error {
			_, err := as.Client.CoreV1().Secrets(other).List(ctx, metav1.ListOptions{})
			return err
		}},

		// 1. Groups from the image.
		{"supplementalGroupsPolicy Merge", byIdentity, pod(own, func(p *corev1.Pod) {
			p.Spec.SecurityContext.SupplementalGroupsPolicy = ptr.To(corev1.SupplementalGroupsPolicyMerge)
		})},
		{"supplementalGroupsPolicy unset gets Strict", admitted, func(ctx context.Context, as *harness.Cluster) error {
			return strictAfterMutation(ctx, as, own, id)
		}},

		// 2. and 3. Services.
		{"a ClusterIP Service", admitted, service(own, func(*corev1.Service) {})},
		{"a NodePort Service (OOD's template)", admitted, service(own, func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeNodePort })},
		{"an ExternalName Service into another user's namespace", byServices, service(own, func(s *corev1.Service) {
			s.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "backend." + other + ".svc.cluster.local"}
		})},
		{"a LoadBalancer Service", byServices, service(own, func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeLoadBalancer })},
		{"a Service with externalIPs (CVE-2020-8554)", byServices, service(own, func(s *corev1.Service) { s.Spec.ExternalIPs = []string{"192.0.2.10"} })},
		{"an EndpointSlice pointing at another user's pod", byRBAC, func(ctx context.Context, as *harness.Cluster) error {
			es := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "backend-manual", Namespace: own},
				AddressType: discoveryv1.AddressTypeIPv4, Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.1.2.3"}}}}
			_, err := as.Client.DiscoveryV1().EndpointSlices(own).Create(ctx, es, dryRun)
			return err
		}},

		// 3. A podSecurity: baseline site with the admission policy.
		{"baseline site: a container that may escalate (setuid)", baselinePolicy, pod(baselineNS, container(&corev1.SecurityContext{}))},
		{"baseline site: allowPrivilegeEscalation true", baselinePolicy, pod(baselineNS, container(&corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(true)}))},
		{"baseline site: no escalation", admitted, pod(baselineNS, container(&corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false)}))},
		{"baseline site: privileged with no escalation", byValidation, pod(baselineNS, container(&corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false), Privileged: ptr.To(true)}))},

		// 5. One id rule.
		{"a uid above 2^31-1", byValidation, pod(own, func(p *corev1.Pod) { p.Spec.SecurityContext.RunAsUser = ptr.To[int64](3000000000) })},
	}

	for _, a := range attempts {
		t.Run(a.name, func(t *testing.T) {
			got := harness.Verdict(a.try(ctx, as))
			t.Logf("%-60s want %-24q got %q", a.name, a.who, got)
			switch {
			case a.who != admitted && got == admitted:
				t.Errorf("ADMITTED, but %s must deny it", a.who)
			case got != a.who:
				t.Errorf("verdict %q, want %q", got, a.who)
			}
		})
	}
}

var dryRun = metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"}

// strictAfterMutation creates a pod that leaves supplementalGroupsPolicy unset, as Open
// OnDemand's template does, and checks that it was admitted with Strict.
func strictAfterMutation(ctx context.Context, as *harness.Cluster, ns string, id identity) error {
	p := restrictedPod("hostile-unset", ns, id)
	p.Spec.SecurityContext.SupplementalGroupsPolicy = nil
	got, err := as.Client.CoreV1().Pods(ns).Create(ctx, p, dryRun)
	if err != nil {
		return err
	}
	if sgp := got.Spec.SecurityContext.SupplementalGroupsPolicy; sgp == nil || *sgp != corev1.SupplementalGroupsPolicyStrict {
		return &apierrors.StatusError{ErrStatus: metav1.Status{Message: "admitted without supplementalGroupsPolicy: Strict", Reason: metav1.StatusReasonUnknown}}
	}
	return nil
}

// waitForMutation waits until the API server has loaded the MutatingAdmissionPolicy.
func waitForMutation(ctx context.Context, t *testing.T, as *harness.Cluster, ns string, id identity) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		return strictAfterMutation(ctx, as, ns, id) == nil, nil
	})
	if err != nil {
		t.Logf("the MutatingAdmissionPolicy did not set Strict within 30s")
	}
}

// existingPod creates (as the administrator) a pod to attach ephemeral containers to.
func existingPod(ctx context.Context, t *testing.T, c *harness.Cluster, ns string, id identity) *corev1.Pod {
	t.Helper()
	p := restrictedPod("hostile-target", ns, id)
	got, err := c.Client.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating the target pod: %v", err)
	}
	t.Cleanup(func() {
		_ = c.Client.CoreV1().Pods(ns).Delete(context.Background(), p.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)})
	})
	return got
}

// baselineNamespace loads the pod identity policy that krm-fn renders for a site whose
// podSecurity is baseline, bound only to a scratch namespace labelled and annotated like
// the user's but enforcing Pod Security baseline, where the user may create pods.
func baselineNamespace(ctx context.Context, t *testing.T, c *harness.Cluster, s *site, userNS *unstructured.Unstructured) string {
	t.Helper()
	const selectLabel = "peruser.dev/e2e-baseline"
	id := namespaceIdentity(t, userNS)
	dir := t.TempDir()
	spec := "apiVersion: peruser.dev/v1alpha1\nkind: Site\nmetadata: {name: baseline-e2e}\nspec:\n" +
		"  namespace: {podSecurity: baseline}\n  admission: {validatingAdmissionPolicy: true}\n" +
		"  users: [{name: " + exampleUser + ", uid: " + itoa(id.UID) + ", gid: " + itoa(id.GID) + "}]\n"
	if err := os.WriteFile(filepath.Join(dir, "site.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, testenv.Binary(t, "./cmd/krm-fn"), "render", "site.yaml")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("krm-fn render of a baseline site: %v", err)
	}
	objs, err := harness.ParseObjects(out)
	if err != nil {
		t.Fatal(err)
	}
	selector := map[string]any{"matchLabels": map[string]any{selectLabel: "true"}}
	for _, kind := range []string{"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"} {
		o := harness.Find(objs, kind, "", byIdentity)
		if o == nil {
			t.Fatalf("the baseline site renders no %s %s", kind, byIdentity)
		}
		o.SetName(baselinePolicy)
		if kind == "ValidatingAdmissionPolicy" {
			_ = unstructured.SetNestedField(o.Object, selector, "spec", "matchConstraints", "namespaceSelector")
		} else {
			_ = unstructured.SetNestedField(o.Object, baselinePolicy, "spec", "policyName")
			_ = unstructured.SetNestedField(o.Object, selector, "spec", "matchResources", "namespaceSelector")
		}
		if _, err := c.Dynamic.Resource(admissionGVR(kind)).Create(ctx, o, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("loading the baseline site's %s: %v", kind, err)
		}
		t.Cleanup(func() {
			_ = c.Dynamic.Resource(admissionGVR(kind)).Delete(context.Background(), baselinePolicy, metav1.DeleteOptions{})
		})
	}

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:        userNS.GetName() + "-baseline-e2e",
		Labels:      map[string]string{labelUser: exampleUser, selectLabel: "true", "pod-security.kubernetes.io/enforce": "baseline"},
		Annotations: userNS.GetAnnotations(),
	}}
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating the baseline namespace: %v", err)
	}
	t.Cleanup(func() {
		_ = c.Client.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
	})
	for _, o := range []struct {
		create func() error
		what   string
	}{
		{func() error {
			_, err := c.Client.CoreV1().ServiceAccounts(ns.Name).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
			return err
		}, "default ServiceAccount"},
		{func() error {
			rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "hostile-e2e"},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: userClusterRole(t, s, userNS.GetName())},
				Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: s.subject(exampleUser).User}}}
			_, err := c.Client.RbacV1().RoleBindings(ns.Name).Create(ctx, rb, metav1.CreateOptions{})
			return err
		}, "the user's RoleBinding"},
	} {
		if err := o.create(); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("creating the baseline namespace's %s: %v", o.what, err)
		}
	}
	escalating := restrictedPod("vap-e2e", ns.Name, id)
	escalating.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		return harness.Verdict(c.DryRunCreate(ctx, escalating)) == baselinePolicy, nil
	})
	if err != nil {
		t.Logf("the baseline policy did not deny an escalating pod within 30s")
	}
	return ns.Name
}

// userClusterRole is the ClusterRole the site binds its users to in ns.
func userClusterRole(t *testing.T, s *site, ns string) string {
	t.Helper()
	for _, rb := range harness.Select(s.Objects, "RoleBinding", ns) {
		subjects, _, _ := unstructured.NestedSlice(rb.Object, "subjects")
		for _, sub := range subjects {
			if m, ok := sub.(map[string]any); ok && m["kind"] == "User" {
				name, _, _ := unstructured.NestedString(rb.Object, "roleRef", "name")
				return name
			}
		}
	}
	t.Fatalf("no RoleBinding for a User in %s", ns)
	return ""
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// admissionGVR is the resource of an admissionregistration.k8s.io/v1 kind.
func admissionGVR(kind string) schema.GroupVersionResource {
	resource := map[string]string{
		"ValidatingAdmissionPolicy":        "validatingadmissionpolicies",
		"ValidatingAdmissionPolicyBinding": "validatingadmissionpolicybindings",
	}[kind]
	return schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: resource}
}

// TestPodIdentityPolicyAtScale: in a namespace whose user has 5,000 groups, a pod that
// carries all of them is admitted and one with a foreign group among them is denied by
// the policy, within the real apiserver's CEL cost limits. The namespace is a scratch one
// labelled like a user's, without Pod Security labels, so that only the policy judges.
func TestPodIdentityPolicyAtScale(t *testing.T) {
	s := appliedSite(t)
	c := testCluster(t)
	ctx := testContext(t)
	userNS := s.userNamespace(t, exampleUser)
	id := namespaceIdentity(t, userNS)
	const n = 5000
	gids := []string{itoa(id.GID)}
	big := identity{UID: id.UID, GID: id.GID}
	for i := range n {
		g := int64(100000 + i)
		gids = append(gids, itoa(g))
		big.Groups = append(big.Groups, g)
	}
	annotations := map[string]string{annotUID: itoa(id.UID), annotGID: itoa(id.GID), annotSupplGroups: strings.Join(gids, ",")}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: userNS.GetName() + "-scale-e2e", Labels: map[string]string{labelUser: exampleUser}, Annotations: annotations}}
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating the scale namespace: %v", err)
	}
	t.Cleanup(func() {
		_ = c.Client.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
	})
	if _, err := c.Client.CoreV1().ServiceAccounts(ns.Name).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	waitForPolicy(ctx, t, c, restrictedPod("vap-e2e", ns.Name, identity{UID: id.UID + 1, GID: id.GID}))
	if err := c.DryRunCreate(ctx, restrictedPod("scale", ns.Name, big)); err != nil {
		t.Errorf("a pod with the user's %d groups was not admitted: %v", n, err)
	}
	foreign := big
	foreign.Groups = append(append([]int64{}, big.Groups[:n-1]...), id.foreignGID())
	if got := harness.Verdict(c.DryRunCreate(ctx, restrictedPod("scale", ns.Name, foreign))); got != byIdentity {
		t.Errorf("a pod with a foreign group among %d: verdict %q, want %q", n, got, byIdentity)
	}
}
