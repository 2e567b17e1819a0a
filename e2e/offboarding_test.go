package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/peruser-dev/peruser/e2e/harness"
	"github.com/peruser-dev/peruser/internal/testenv"
)

// rbacPruneKinds are the only kinds offboarding deletes. kubectl honours no prune-protection
// annotation, so limiting the kinds is what keeps a user's Namespace, and with it their
// PersistentVolumeClaims and data, when they leave the spec.
const rbacPruneKinds = "rolebindings.rbac.authorization.k8s.io,roles.rbac.authorization.k8s.io"

// TestOffboardingRevokesAccessKeepsData: a user removed from the spec, after the site is
// re-rendered, re-applied and pruned the documented way, loses every right in their old
// namespace, while the Namespace and their PersistentVolumeClaims stay, and no other user is
// touched.
func TestOffboardingRevokesAccessKeepsData(t *testing.T) {
	kustomize := testenv.Kustomize(t)
	s := appliedSite(t)
	c := testCluster(t)
	ctx := testContext(t)

	leaving := leavingUser(t, s)
	oldNS := s.userNamespace(t, leaving)
	ns := oldNS.GetName()
	subject := s.subject(leaving)
	if ok, err := c.ExpectAccess(ctx, subject, harness.Access{Verb: "create", Resource: "pods", Namespace: ns}, true); err != nil || !ok {
		t.Fatalf("before offboarding, %s may not create pods in %s (allowed=%t, err=%v)", subject.User, ns, ok, err)
	}

	afterDir := siteWithout(t, s, leaving)
	after, err := renderSite(ctx, kustomize, afterDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range harness.Select(after.Objects, "Namespace", "") {
		if o.GetAnnotations()[annotUsername] == leaving {
			t.Fatalf("the site without %s still renders their Namespace %s", leaving, o.GetName())
		}
	}
	// Put the example site back whatever happens, so no other test depends on running first.
	t.Cleanup(func() {
		if err := applySite(context.Background(), c, s.Manifest); err != nil {
			t.Errorf("restoring the example site: %v", err)
		}
	})
	if err := applySite(ctx, c, after.Manifest); err != nil {
		t.Fatal(err)
	}
	if err := pruneRBAC(ctx, t, c, afterDir, after.Objects); err != nil {
		t.Fatal(err)
	}

	for _, rb := range harness.Select(s.Objects, "RoleBinding", ns) {
		if _, err := c.Get(ctx, rb); err == nil {
			t.Errorf("%s survived offboarding", harness.Describe(rb))
		}
	}
	for _, a := range []harness.Access{
		{Verb: "create", Resource: "pods", Namespace: ns},
		{Verb: "get", Resource: "secrets", Namespace: ns},
	} {
		if ok, err := c.ExpectAccess(ctx, subject, a, false); err != nil {
			t.Fatal(err)
		} else if ok {
			t.Errorf("after offboarding, %s may still %s", subject.User, a)
		}
	}

	live, err := c.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	switch {
	case err != nil:
		t.Errorf("offboarding removed Namespace %s: %v", ns, err)
	case live.DeletionTimestamp != nil:
		t.Errorf("offboarding is deleting Namespace %s", ns)
	default:
		checkKeepAnnotations(t, "Namespace "+ns, live.Annotations)
	}
	pvcs := harness.Select(s.Objects, "PersistentVolumeClaim", ns)
	if len(pvcs) == 0 {
		t.Errorf("the example site renders no PersistentVolumeClaim for %s (spec.storage), so keeping their data is unchecked", leaving)
	}
	for _, pvc := range pvcs {
		got, err := c.Get(ctx, pvc)
		if err != nil {
			t.Errorf("offboarding removed %s: %v", harness.Describe(pvc), err)
			continue
		}
		checkKeepAnnotations(t, harness.Describe(pvc), got.GetAnnotations())
	}

	// The users who stay keep their bindings.
	for _, rb := range harness.Select(after.Objects, "RoleBinding", "") {
		if _, err := c.Get(ctx, rb); err != nil {
			t.Errorf("offboarding %s removed another user's binding: %v", leaving, err)
		}
	}
}

// pruneRBAC is the offboarding step of the README: delete the RBAC objects peruser made for
// users who are no longer in the rendered site, in every namespace.
//
// It is not `kubectl apply --prune --prune-allowlist=…`, because that cannot do this job:
// kubectl refuses --prune together with --server-side ("--prune is in alpha and doesn't
// currently work on objects created by server-side apply"), its legacy pruner skips objects
// without the client-side last-applied annotation, and it only looks in namespaces that still
// hold an applied object, which a removed user's namespace never does (kubectl
// pkg/cmd/apply/prune.go, pruneAll over visitedNamespaces). ApplySets would reach the old
// namespace but prune every kind they applied, Namespaces included.
//
// The selector is the README's: `krm-fn users --departed-selector site.yaml`. It keeps to
// objects labelled as peruser's, as this site's and as some user's, and spares users still
// rendered; it is checked here against the labels the render actually wrote.
func pruneRBAC(ctx context.Context, t *testing.T, c *harness.Cluster, dir string, rendered []*unstructured.Unstructured) error {
	bin := testenv.Binary(t, "./cmd/krm-fn")
	cmd := exec.CommandContext(ctx, bin, "users", "--departed-selector", "site.yaml")
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("krm-fn users --departed-selector: %v: %s", err, stderr.String())
	}
	selector := strings.TrimSpace(string(out))
	site := ""
	for _, o := range rendered {
		if v := o.GetLabels()["peruser.dev/site"]; v != "" {
			site = v
			break
		}
	}
	want := labelManagedBy + "=" + managedBy + ",peruser.dev/site=" + site + "," + labelUser
	if users := renderedUsers(rendered); len(users) > 0 {
		want += "," + labelUser + " notin (" + strings.Join(users, ",") + ")"
	}
	if selector != want {
		return fmt.Errorf("krm-fn users --departed-selector printed %q, but the render's labels give %q", selector, want)
	}
	if _, err := c.RunKubectl(ctx, nil, "delete", rbacPruneKinds, "--all-namespaces", "-l", selector); err != nil {
		return fmt.Errorf("pruning the RBAC of users no longer in the site: %w", err)
	}
	return nil
}

// renderedUsers lists the user labels in a rendered site, sorted.
func renderedUsers(objs []*unstructured.Unstructured) []string {
	seen := map[string]bool{}
	for _, o := range objs {
		if u := o.GetLabels()[labelUser]; u != "" {
			seen[u] = true
		}
	}
	users := make([]string, 0, len(seen))
	for u := range seen {
		users = append(users, u)
	}
	sort.Strings(users)
	return users
}

// leavingUser picks the inline user to offboard: the last one other than exampleUser, whom
// the other tests judge by.
func leavingUser(t *testing.T, s *site) string {
	t.Helper()
	for i := len(s.Spec.Spec.Users) - 1; i >= 0; i-- {
		if name := s.Spec.Spec.Users[i].Name; name != exampleUser {
			return name
		}
	}
	t.Fatalf("the example site has no inline user besides %s to offboard", exampleUser)
	return ""
}

// siteWithout writes a kustomization to a temporary directory that renders s without the
// inline user leaving, as an administrator's edit of the spec would, and returns the
// directory. The function's executable and the files the spec names are reached from there
// at their original places.
func siteWithout(t *testing.T, s *site, leaving string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(s.Dir, s.SpecPath))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parsing %s: %v", s.SpecPath, err)
	}
	users, _, _ := unstructured.NestedSlice(doc, "spec", "users")
	kept := users[:0:0]
	for _, u := range users {
		if m, _ := u.(map[string]any); m["name"] != leaving {
			kept = append(kept, u)
		}
	}
	if len(kept) == len(users) {
		t.Fatalf("%s is not an inline user of %s", leaving, s.SpecPath)
	}
	if err := unstructured.SetNestedSlice(doc, kept, "spec", "users"); err != nil {
		t.Fatal(err)
	}

	// Relative paths in the spec are relative to the kustomization; make them absolute.
	for _, path := range [][]string{
		{"spec", "registry", "dockerConfigJSONFile"},
		{"spec", "directory", "snapshot"},
		{"spec", "directory", "caFile"},
		{"spec", "directory", "bindPasswordFile"},
	} {
		if v, ok, _ := unstructured.NestedString(doc, path...); ok && v != "" && !filepath.IsAbs(v) {
			_ = unstructured.SetNestedField(doc, filepath.Join(s.Dir, v), path...)
		}
	}
	const fnAnnotation = "config.kubernetes.io/function"
	fnSpec, _, _ := unstructured.NestedString(doc, "metadata", "annotations", fnAnnotation)
	var fn map[string]any
	if err := yaml.Unmarshal([]byte(fnSpec), &fn); err != nil {
		t.Fatalf("%s annotation %s: %v", s.SpecPath, fnAnnotation, err)
	}
	if p, ok, _ := unstructured.NestedString(fn, "exec", "path"); ok && !filepath.IsAbs(p) {
		_ = unstructured.SetNestedField(fn, filepath.Join(s.Dir, p), "exec", "path")
		b, err := yaml.Marshal(fn)
		if err != nil {
			t.Fatal(err)
		}
		_ = unstructured.SetNestedField(doc, string(b), "metadata", "annotations", fnAnnotation)
	}

	dir := t.TempDir()
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "site.yaml"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	kustomization := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\ngenerators:\n  - site.yaml\n"
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(kustomization), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// checkKeepAnnotations asserts that a kept object carries, as the API server stores it,
// what keeps Argo CD from deleting it (also when the Application is deleted) and from
// reporting it OutOfSync once it is no longer rendered, and what keeps Flux from
// pruning it.
func checkKeepAnnotations(t *testing.T, what string, got map[string]string) {
	t.Helper()
	for k, want := range map[string]string{
		"argocd.argoproj.io/sync-options":    "Prune=false,Delete=false",
		"argocd.argoproj.io/compare-options": "IgnoreExtraneous",
		"kustomize.toolkit.fluxcd.io/prune":  "disabled",
	} {
		if got[k] != want {
			t.Errorf("%s kept after offboarding has %s=%q, want %q", what, k, got[k], want)
		}
	}
}
