package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	"github.com/peruser-dev/peruser/e2e/harness"
)

// TestAdmissionPolicyPinsIdentity: the site's ValidatingAdmissionPolicy admits a pod that runs
// as the namespace's user and rejects every way of running as someone else.
//
// Each pod is judged twice: in the user's namespace, where Pod Security "restricted" also
// judges (a rejection is all that counts there), and in a scratch namespace with the same
// labels and annotations but no Pod Security labels, where only the policy can reject.
func TestAdmissionPolicyPinsIdentity(t *testing.T) {
	s := appliedSite(t)
	c := testCluster(t)
	ctx := testContext(t)
	userNS := s.userNamespace(t, exampleUser)
	id := namespaceIdentity(t, userNS)
	if len(harness.Select(s.Objects, "ValidatingAdmissionPolicy", "")) == 0 {
		t.Errorf("the example site renders no ValidatingAdmissionPolicy (spec.admission.validatingAdmissionPolicy)")
	} else {
		waitForPolicy(ctx, t, c, restrictedPod("vap-e2e", userNS.GetName(), identity{UID: id.UID + 1, GID: id.GID, Groups: id.Groups}))
	}

	scratch := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:        userNS.GetName() + "-vap-e2e",
		Labels:      map[string]string{},
		Annotations: userNS.GetAnnotations(),
	}}
	for k, v := range userNS.GetLabels() {
		if !strings.HasPrefix(k, "pod-security.kubernetes.io/") {
			scratch.Labels[k] = v
		}
	}
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx, scratch, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating the scratch namespace: %v", err)
	}
	t.Cleanup(func() {
		_ = c.Client.CoreV1().Namespaces().Delete(context.Background(), scratch.Name, metav1.DeleteOptions{})
	})
	// Where the ServiceAccount admission plugin runs (any real cluster), a pod needs its
	// namespace's default ServiceAccount, which the controller-manager may not have made yet.
	defaultSA := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: scratch.Name}}
	if _, err := c.Client.CoreV1().ServiceAccounts(scratch.Name).Create(ctx, defaultSA, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating the scratch namespace's default ServiceAccount: %v", err)
	}

	for _, tc := range []struct {
		name  string
		bend  func(*corev1.Pod)
		admit bool
	}{
		{"own uid and gid", func(*corev1.Pod) {}, true},
		{"another uid", func(p *corev1.Pod) { p.Spec.SecurityContext.RunAsUser = ptr.To(id.UID + 1) }, false},
		{"another gid", func(p *corev1.Pod) { p.Spec.SecurityContext.RunAsGroup = ptr.To(id.GID + 1) }, false},
		{"another fsGroup", func(p *corev1.Pod) { p.Spec.SecurityContext.FSGroup = ptr.To(id.GID + 1) }, false},
		{"foreign supplemental group", func(p *corev1.Pod) {
			p.Spec.SecurityContext.SupplementalGroups = append(p.Spec.SecurityContext.SupplementalGroups, id.foreignGID())
		}, false},
		{"runAsNonRoot false", func(p *corev1.Pod) { p.Spec.SecurityContext.RunAsNonRoot = ptr.To(false) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, ns := range []string{userNS.GetName(), scratch.Name} {
				pod := restrictedPod("vap-e2e", ns, id)
				tc.bend(pod)
				err := c.DryRunCreate(ctx, pod)
				switch {
				case tc.admit && err != nil:
					t.Errorf("in %s: rejected: %v", ns, err)
				case !tc.admit && err == nil:
					t.Errorf("in %s: admitted", ns)
				case !tc.admit && ns == scratch.Name && !harness.IsForbiddenBy(err, "ValidatingAdmissionPolicy"):
					t.Errorf("in %s: rejected, but not by a ValidatingAdmissionPolicy: %v", ns, err)
				}
			}
		})
	}
}

// waitForPolicy waits until a pod the policy must reject is rejected: the API server loads
// a new ValidatingAdmissionPolicy and binding from informers, a moment after they are applied.
func waitForPolicy(ctx context.Context, t *testing.T, c *harness.Cluster, bad *corev1.Pod) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		return harness.IsForbiddenBy(c.DryRunCreate(ctx, bad), "ValidatingAdmissionPolicy"), nil
	})
	if err != nil {
		t.Logf("the ValidatingAdmissionPolicy did not reject a pod with another uid within 30s")
	}
}

// TestQuotaAndLimitRangeInForce: the profile's LimitRange caps each container and its
// ResourceQuota caps the namespace, as the API server enforces them at admission.
func TestQuotaAndLimitRangeInForce(t *testing.T) {
	s := appliedSite(t)
	c := testCluster(t)
	ctx := testContext(t)
	userNS := s.userNamespace(t, exampleUser)
	ns := userNS.GetName()
	id := namespaceIdentity(t, userNS)

	maxCPU, quotaCPU := containerMaxCPU(t, s, ns), quotaRequestsCPU(t, s, ns)
	for _, o := range append(harness.Select(s.Objects, "LimitRange", ns), harness.Select(s.Objects, "ResourceQuota", ns)...) {
		if _, err := c.Get(ctx, o); err != nil {
			t.Fatalf("%v (rendered but not in the cluster)", err)
		}
	}

	atMax := restrictedPod("quota-e2e", ns, id)
	atMax.Spec.Containers = []corev1.Container{restrictedContainer("main", "100m", maxCPU.String())}
	if err := c.DryRunCreate(ctx, atMax); err != nil {
		t.Errorf("a container at the profile's max cpu %s was rejected: %v", maxCPU.String(), err)
	}

	over := maxCPU.DeepCopy()
	over.Add(resource.MustParse("1"))
	overMax := restrictedPod("quota-e2e", ns, id)
	overMax.Spec.Containers = []corev1.Container{restrictedContainer("main", "100m", over.String())}
	if err := c.DryRunCreate(ctx, overMax); err == nil {
		t.Errorf("a container with cpu limit %s over the profile's max %s was admitted", over.String(), maxCPU.String())
	} else if !harness.IsForbiddenBy(err, "maximum cpu usage per Container") {
		t.Errorf("a container over the max was rejected, but not by the LimitRange: %v", err)
	}

	// Containers each within the max whose requests together exceed the quota.
	n := quotaCPU.MilliValue()/maxCPU.MilliValue() + 1
	overQuota := restrictedPod("quota-e2e", ns, id)
	overQuota.Spec.Containers = nil
	for i := range n {
		overQuota.Spec.Containers = append(overQuota.Spec.Containers,
			restrictedContainer("c"+string(rune('a'+i)), maxCPU.String(), maxCPU.String()))
	}
	if err := c.DryRunCreate(ctx, overQuota); err == nil {
		t.Errorf("a pod requesting %d×%s cpu, over the quota's requests.cpu %s, was admitted", n, maxCPU.String(), quotaCPU.String())
	} else if !harness.IsForbiddenBy(err, "exceeded quota") {
		t.Errorf("a pod over the quota was rejected, but not by the ResourceQuota: %v", err)
	}
}

// containerMaxCPU is the cpu max of the rendered LimitRange's Container limit in ns.
func containerMaxCPU(t *testing.T, s *site, ns string) resource.Quantity {
	t.Helper()
	for _, lr := range harness.Select(s.Objects, "LimitRange", ns) {
		limits, _, _ := unstructured.NestedSlice(lr.Object, "spec", "limits")
		for _, l := range limits {
			m, _ := l.(map[string]any)
			if m["type"] != "Container" {
				continue
			}
			if q, err := quantity(&unstructured.Unstructured{Object: m}, "max", "cpu"); err == nil {
				return q
			}
		}
	}
	t.Fatalf("the rendered site has no LimitRange with a Container max cpu in %s", ns)
	return resource.Quantity{}
}

// quotaRequestsCPU is the requests.cpu of the rendered ResourceQuota in ns.
func quotaRequestsCPU(t *testing.T, s *site, ns string) resource.Quantity {
	t.Helper()
	for _, q := range harness.Select(s.Objects, "ResourceQuota", ns) {
		if v, err := quantity(q, "spec", "hard", "requests.cpu"); err == nil {
			return v
		}
	}
	t.Fatalf("the rendered site has no ResourceQuota with requests.cpu in %s", ns)
	return resource.Quantity{}
}
