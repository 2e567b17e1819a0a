package e2e

import (
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/peruser-dev/peruser/e2e/harness"
)

// TestUserIsolation: the OIDC user may work in their own namespace and nowhere else, as the
// API server's RBAC authorizer answers SubjectAccessReviews.
func TestUserIsolation(t *testing.T) {
	s := appliedSite(t)
	c := testCluster(t)
	ctx := testContext(t)
	own := s.userNamespace(t, exampleUser).GetName()
	other := s.otherUserNamespace(t, exampleUser).GetName()
	user := s.subject(exampleUser)

	for _, tc := range []struct {
		access harness.Access
		want   bool
	}{
		{harness.Access{Verb: "create", Resource: "pods", Namespace: own}, true},
		{harness.Access{Verb: "get", Resource: "secrets", Namespace: own}, true},
		{harness.Access{Verb: "list", Resource: "secrets", Namespace: own}, true},
		{harness.Access{Verb: "create", Resource: "pods", Namespace: other}, false},
		{harness.Access{Verb: "get", Resource: "secrets", Namespace: other}, false},
		{harness.Access{Verb: "list", Resource: "secrets", Namespace: other}, false},
		{harness.Access{Verb: "list", Resource: "namespaces"}, false},
	} {
		got, err := c.ExpectAccess(ctx, user, tc.access, tc.want)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s may %s: allowed=%t, want %t", user.User, tc.access, got, tc.want)
		}
	}

	// The bare username, without the apiserver's OIDC prefix, must get nothing: otherwise a
	// local account named like the user would inherit their namespace.
	if prefix := s.Spec.Spec.RBAC.SubjectPrefix; prefix != "" {
		bare := harness.Subject{User: exampleUser, Groups: []string{"system:authenticated"}}
		got, err := c.ExpectAccess(ctx, bare, harness.Access{Verb: "create", Resource: "pods", Namespace: own}, false)
		if err != nil {
			t.Fatal(err)
		}
		if got {
			t.Errorf("%q without the subject prefix %q may create pods in %s", exampleUser, prefix, own)
		}
	}
}

// TestServiceAccountHasInitializerRights: the namespace's default ServiceAccount (which OOD's
// initializer pods run as) gets exactly the rights of the ClusterRole its RoleBinding names,
// in its own namespace only.
func TestServiceAccountHasInitializerRights(t *testing.T) {
	s := appliedSite(t)
	c := testCluster(t)
	ctx := testContext(t)
	own := s.userNamespace(t, exampleUser).GetName()
	other := s.otherUserNamespace(t, exampleUser).GetName()

	wantRole := s.Spec.Spec.RBAC.ServiceAccountClusterRole
	if wantRole == "" {
		wantRole = "ood-initializer" // the spec's default
	}
	roleName := ""
	for _, rb := range harness.Select(s.Objects, "RoleBinding", own) {
		subjects, _, _ := unstructured.NestedSlice(rb.Object, "subjects")
		for _, sub := range subjects {
			m, _ := sub.(map[string]any)
			if m["kind"] == "ServiceAccount" && m["name"] == "default" && (m["namespace"] == own || m["namespace"] == nil) {
				roleName, _, _ = unstructured.NestedString(rb.Object, "roleRef", "name")
			}
		}
	}
	if roleName != wantRole {
		t.Fatalf("the default ServiceAccount of %s is bound to ClusterRole %q, want %q", own, roleName, wantRole)
	}
	role, err := c.Client.RbacV1().ClusterRoles().Get(ctx, roleName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the ClusterRole the ServiceAccount is bound to: %v", err)
	}
	want := harness.RuleRights(role.Rules)
	if want.Len() == 0 {
		t.Fatalf("ClusterRole %s grants nothing", roleName)
	}

	sa := harness.ServiceAccount(own, "default")
	// Every ServiceAccount gets what the cluster grants to all authenticated subjects and
	// all ServiceAccounts; an unbound one in the same namespace measures that baseline.
	baseline := harness.ServiceAccount(own, "peruser-e2e-unbound")
	for _, ns := range []string{own, other} {
		got, err := c.Rights(ctx, sa, ns)
		if err != nil {
			t.Fatal(err)
		}
		base, err := c.Rights(ctx, baseline, ns)
		if err != nil {
			t.Fatal(err)
		}
		extra := got.Difference(base)
		if ns == own {
			if missing := want.Difference(extra); missing.Len() > 0 {
				t.Errorf("%s in %s lacks rights of %s: %v", sa.User, ns, roleName, harness.SortedList(missing))
			}
			if surplus := extra.Difference(want); surplus.Len() > 0 {
				t.Errorf("%s in %s has rights beyond %s: %v", sa.User, ns, roleName, harness.SortedList(surplus))
			}
		} else if extra.Len() > 0 {
			t.Errorf("%s has rights in another user's namespace %s: %v", sa.User, ns, harness.SortedList(extra))
		}
	}
}

// TestRegistrySecretOnDefaultServiceAccount: the registry pull Secret exists with the type
// kubelets read, holds a docker config, and the default ServiceAccount references it, so
// every pod in the namespace can pull from the private registry.
func TestRegistrySecretOnDefaultServiceAccount(t *testing.T) {
	s := appliedSite(t)
	c := testCluster(t)
	ctx := testContext(t)
	own := s.userNamespace(t, exampleUser).GetName()
	if s.Spec.Spec.Registry == nil {
		t.Fatal("the example site configures no spec.registry")
	}
	name := s.Spec.Spec.Registry.SecretName

	secret, err := c.Client.CoreV1().Secrets(own).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("registry Secret: %v", err)
	}
	if secret.Type != corev1.SecretTypeDockerConfigJson {
		t.Errorf("Secret %s/%s has type %q, want %q", own, name, secret.Type, corev1.SecretTypeDockerConfigJson)
	}
	var cfg struct {
		Auths map[string]json.RawMessage `json:"auths"`
	}
	if err := json.Unmarshal(secret.Data[corev1.DockerConfigJsonKey], &cfg); err != nil || len(cfg.Auths) == 0 {
		t.Errorf("Secret %s/%s key %s is not a docker config with auths (err=%v)", own, name, corev1.DockerConfigJsonKey, err)
	}

	sa, err := c.Client.CoreV1().ServiceAccounts(own).Get(ctx, "default", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("default ServiceAccount: %v", err)
	}
	found := false
	for _, ref := range sa.ImagePullSecrets {
		found = found || ref.Name == name
	}
	if !found {
		t.Errorf("ServiceAccount %s/default imagePullSecrets = %v, want a reference to %s", own, sa.ImagePullSecrets, name)
	}
}
