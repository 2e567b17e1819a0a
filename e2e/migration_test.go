package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/peruser-dev/peruser/e2e/harness"
)

// hookUsers are the users of the migration test: plain lowercase names, the only ones
// OOD's hook can make namespaces for.
var hookUsers = []string{"alice", "bob", "carol"}

// hookClusterRoles are OOD's ood-initializer and ood-user ClusterRoles as the hooks'
// ondemand.yaml (OSC/ondemand hooks/k8s-bootstrap/ondemand.yaml) writes them, renamed so
// that they do not meet the example site's ClusterRoles.
const hookClusterRoles = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: hook-ood-initializer
rules:
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "create", "update", "patch"]
- apiGroups: [""]
  resources: ["services", "pods"]
  verbs: ["get"]
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["update", "get", "patch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: hook-ood-user
rules:
- apiGroups: [""]
  resources: ["services", "pods", "configmaps", "secrets", "pods/log"]
  verbs: ["get", "watch", "list", "create", "update", "patch", "delete"]
`

// hookLogin is what OOD's hook (OSC/ondemand hooks/k8s-bootstrap/k8s-bootstrap-ondemand.sh
// and its yaml/ templates: namespace.yaml, network-policy.yaml, rolebinding.yaml) pipes
// into `kubectl apply` at a login of user u, with NAMESPACE_PREFIX hook- and
// NETWORK_POLICY_ALLOW_CIDR 10.20.0.0/16.
//
// serverSide is the hook as docs/migrating-from-the-ood-hook.md adapts it to coexist with
// peruser: the User subject with the apiGroup the apiserver stores, and the pod selector
// as {} rather than a null matchLabels (which a server-side apply treats as a removal),
// so that its server-side apply sends peruser's form.
func hookLogin(u string, timestamp int, serverSide ...bool) string {
	ns := "hook-" + u
	apiGroup, podSelector := "", "\n    matchLabels:"
	if len(serverSide) > 0 && serverSide[0] {
		apiGroup, podSelector = "\n    apiGroup: rbac.authorization.k8s.io", " {}"
	}
	return fmt.Sprintf(`---
apiVersion: v1
kind: Namespace
metadata:
  name: "%[2]s"
  labels:
    app.kubernetes.io/name: open-ondemand
  annotations:
    openondemand.org/last-hook-execution: "%[3]d"
---
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  namespace: %[2]s
  name: deny-from-other-namespaces
spec:
  podSelector:%[5]s
  ingress:
  - from:
    - podSelector: {}
    - ipBlock:
        cidr: 10.20.0.0/16
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  namespace: "%[2]s"
  name: "%[1]s-ood-initializer"
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: "hook-ood-initializer"
subjects:
  - kind: ServiceAccount
    name: "default"
    namespace: "%[2]s"
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  namespace: "%[2]s"
  name: "%[1]s-ood-user"
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: "hook-ood-user"
subjects:
  - kind: User
    name: "%[1]s"
    namespace: "%[2]s"%[4]s
`, u, ns, timestamp, apiGroup, podSelector)
}

// migrationSite is the peruser Site for the same users: nothing beyond the defaults but
// what the hook's hook.env sets (prefix, CIDR) and the ClusterRole names.
func migrationSite() string {
	var b strings.Builder
	b.WriteString(`apiVersion: peruser.dev/v1alpha1
kind: Site
metadata:
  name: hook-migration
spec:
  namespace: {prefix: hook-}
  rbac: {clusterRoles: true, userClusterRole: hook-ood-user, serviceAccountClusterRole: hook-ood-initializer}
  networkPolicy: {allowCIDRs: [10.20.0.0/16]}
  users:
`)
	for i, u := range hookUsers {
		fmt.Fprintf(&b, "    - {name: %s, uid: %d, gid: %d}\n", u, 32001+i, 32001+i)
	}
	return b.String()
}

// TestMigrationFromTheOODHook follows docs/migrating-from-the-ood-hook.md on objects made
// the way OOD's hook makes them (client-side `kubectl apply`). alice and bob are on a site
// that keeps the hook for a while, its apply switched to server-side with its own field
// manager; carol's hook is simply turned off. peruser's first server-side apply (field
// manager peruser) has no conflict (no --force-conflicts), deletes nothing, every user
// keeps access at every step, a second sync writes nothing, and later logins and syncs do
// not undo each other.
func TestMigrationFromTheOODHook(t *testing.T) {
	c := testCluster(t)
	ctx := testContext(t)
	coexisting := hookUsers[:2]
	login := func(users []string, stamp int, args ...string) {
		t.Helper()
		stream := hookClusterRoles
		for _, u := range users {
			stream += hookLogin(u, stamp, len(args) > 0)
		}
		if _, err := c.RunKubectl(ctx, []byte(stream), append([]string{"apply", "-f", "-"}, args...)...); err != nil {
			t.Fatalf("the hook's apply %v: %v", args, err)
		}
	}
	// The one --force-conflicts: the adapted hook takes its own timestamp from its former
	// client-side manager. Against peruser it never forces anything: every other field it
	// sends has peruser's value.
	hookSSA := []string{"--server-side", "--field-manager=ood-hook", "--force-conflicts"}
	login(hookUsers, 1767225600) // the hook as it ships: client-side apply
	hookObjs, err := harness.ParseObjects([]byte(hookClusterRoles + hookLogin("alice", 0) + hookLogin("bob", 0) + hookLogin("carol", 0)))
	if err != nil {
		t.Fatal(err)
	}
	manifest := renderWithKrmFn(ctx, t, migrationSite())
	peruserObjs, err := harness.ParseObjects(manifest)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = c.RunKubectl(context.Background(), manifest, "delete", "--wait=false", "--ignore-not-found", "-f", "-")
	})
	accessHolds := func(step string) {
		t.Helper()
		for _, u := range hookUsers {
			a := harness.Access{Verb: "create", Resource: "pods", Namespace: "hook-" + u}
			if ok, err := c.ExpectAccess(ctx, harness.Subject{User: u, Groups: []string{"system:authenticated"}}, a, true); err != nil || !ok {
				t.Errorf("%s: %s may not %s (err %v)", step, u, a, err)
			}
			sa := harness.Access{Verb: "update", Resource: "configmaps", Namespace: "hook-" + u}
			if ok, err := c.ExpectAccess(ctx, harness.ServiceAccount("hook-"+u, "default"), sa, true); err != nil || !ok {
				t.Errorf("%s: hook-%s's default ServiceAccount may not %s (err %v)", step, u, sa, err)
			}
		}
	}
	stampOf := func(u string) string {
		t.Helper()
		ns, err := c.Get(ctx, harness.Find(peruserObjs, "Namespace", "", "hook-"+u))
		if err != nil {
			t.Fatal(err)
		}
		return ns.GetAnnotations()["openondemand.org/last-hook-execution"]
	}
	accessHolds("after the hook")
	uids := liveUIDs(ctx, t, c, hookObjs)

	// Step 2 for alice and bob: the hook's apply becomes server-side with its own manager.
	login(coexisting, 1767312000, hookSSA...)
	accessHolds("after the hook's first server-side login")

	// Step 3: peruser's first sync over the hook's objects.
	sync := func(step string) {
		t.Helper()
		if _, err := c.RunKubectl(ctx, manifest, "apply", "--server-side", "--field-manager=peruser", "-f", "-"); err != nil {
			t.Fatalf("%s: peruser's server-side apply (no --force-conflicts): %v", step, err)
		}
		accessHolds(step)
	}
	sync("after peruser's first sync")
	for obj, uid := range liveUIDs(ctx, t, c, hookObjs) {
		if uids[obj] != uid {
			t.Errorf("%s was deleted and made again (uid %s, then %s)", obj, uids[obj], uid)
		}
	}
	for _, u := range coexisting {
		if got := stampOf(u); got != "1767312000" {
			t.Errorf("hook-%s: openondemand.org/last-hook-execution is %q after peruser's first sync, want the last login's 1767312000", u, got)
		}
	}
	// carol's hook is off: kubectl's client-side-to-server-side migration hands the stamp
	// to peruser, whose render lacks it, so it goes (the page says to clear lastUsedAnnotation).
	if got := stampOf("carol"); got != "" {
		t.Errorf("hook-carol: openondemand.org/last-hook-execution is %q after peruser's first sync; docs/migrating-from-the-ood-hook.md says kubectl's migration removes it", got)
	}

	before := resourceVersions(ctx, t, c, peruserObjs)
	sync("after peruser's second sync")
	if changed := changedObjects(before, resourceVersions(ctx, t, c, peruserObjs)); len(changed) > 0 {
		t.Errorf("a second sync wrote %d objects:\n  %s", len(changed), strings.Join(changed, "\n  "))
	}

	// Step 4: the hook keeps running at alice's and bob's logins; peruser keeps syncing.
	for round, stamp := range []int{1767398400, 1767484800} {
		beforeLogin := resourceVersions(ctx, t, c, peruserObjs)
		login(coexisting, stamp, hookSSA...)
		accessHolds(fmt.Sprintf("after login %d", round+1))
		afterLogin := resourceVersions(ctx, t, c, peruserObjs)
		t.Logf("login %d wrote %d objects (its timestamp annotation): %v", round+1, len(changedObjects(beforeLogin, afterLogin)), changedObjects(beforeLogin, afterLogin))
		sync(fmt.Sprintf("after sync %d", round+1))
		if changed := changedObjects(afterLogin, resourceVersions(ctx, t, c, peruserObjs)); len(changed) > 0 {
			t.Errorf("round %d: peruser's sync after a login wrote %d objects (it undoes the hook):\n  %s", round+1, len(changed), strings.Join(changed, "\n  "))
		}
		for _, u := range coexisting {
			if got := stampOf(u); got != fmt.Sprint(stamp) {
				t.Errorf("round %d: hook-%s's openondemand.org/last-hook-execution is %q after peruser's sync, want the login's %d", round+1, u, got, stamp)
			}
		}
	}
}

// liveUIDs reads each object's uid: an object deleted and made again has a new one.
func liveUIDs(ctx context.Context, t *testing.T, c *harness.Cluster, objs []*unstructured.Unstructured) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, o := range objs {
		live, err := c.Get(ctx, o)
		if err != nil {
			t.Fatalf("%v", err)
		}
		out[harness.Describe(o)] = string(live.GetUID())
	}
	return out
}

func changedObjects(before, after map[string]string) []string {
	var changed []string
	for obj, rv := range before {
		if after[obj] != rv {
			changed = append(changed, obj)
		}
	}
	return changed
}
