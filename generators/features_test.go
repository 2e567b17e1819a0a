package generators_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/peruser-dev/peruser/generators"
	"github.com/peruser-dev/peruser/identity"
	"github.com/peruser-dev/peruser/internal/golden"
	"github.com/peruser-dev/peruser/internal/testenv"
	"github.com/peruser-dev/peruser/naming"
)

// Usernames that differ only in what the slug folds away.
var trickyUsers = []string{
	"jane.doe", "jane_doe", "jane-doe", "Jane.Doe", "jane@doe", "jane.doe.", "j", "9lives",
	strings.Repeat("verylongname", 8), strings.Repeat("verylongname", 8) + "x",
}

func siteWithUsers(names []string, features string) string {
	var b strings.Builder
	b.WriteString("apiVersion: peruser.dev/v1alpha1\nkind: Site\nmetadata: {name: t}\nspec:\n")
	b.WriteString(features)
	b.WriteString("  users:\n")
	for i, n := range names {
		b.WriteString("    - {name: \"" + n + "\", uid: " + strconv.Itoa(30000+i) + ", gid: " + strconv.Itoa(30000+i) + "}\n")
	}
	return b.String()
}

// TestIngressHostsAreDistinctDNSNames: every host is a valid DNS name one label below
// the domain (so *.<domain> covers it), and no two users share one.
func TestIngressHostsAreDistinctDNSNames(t *testing.T) {
	domain := "pods.an-unusually-long-subdomain-name.example.edu"
	objs := renderSite(t, siteWithUsers(trickyUsers, "  namespace: {naming: hashed}\n  ingress: {domain: "+domain+", tlsSecretName: wildcard}\n"))
	seen := map[string]string{}
	for _, o := range objs {
		if o.GetKind() != "Ingress" {
			continue
		}
		host, err := o.GetString("spec.rules[0].host")
		require.NoError(t, err)
		tlsHost, err := o.GetString("spec.tls[0].hosts[0]")
		require.NoError(t, err)
		assert.Equal(t, host, tlsHost)
		assert.Empty(t, validation.IsDNS1123Subdomain(host), host)
		label, parent, _ := strings.Cut(host, ".")
		assert.Equal(t, domain, parent, "the wildcard certificate covers one label only")
		assert.Empty(t, validation.IsDNS1123Label(label), host)
		if other, dup := seen[host]; dup {
			t.Errorf("namespaces %s and %s share host %s", other, o.GetNamespace(), host)
		}
		seen[host] = o.GetNamespace()
	}
	assert.Len(t, seen, len(trickyUsers))
}

func TestNFSPath(t *testing.T) {
	u := identity.User{Name: "jane.doe", UID: 20002, Slug: "jane-doe-d48722fc"}
	assert.Equal(t, "/home/jane.doe", generators.NFSPath("/home/{user}", u))
	assert.Equal(t, "/exports/20002/jane-doe-d48722fc/{user", generators.NFSPath("/exports/{uid}/{slug}/{user", u))
}

// TestPruneProtection: only the objects that hold user data carry the annotations, and
// the site option removes them.
func TestPruneProtection(t *testing.T) {
	features := "  storage: {nfs: {server: nfs, path: \"/home/{user}\"}, capacity: 1Gi}\n"
	protected := map[string]bool{"Namespace": true, "PersistentVolumeClaim": true, "PersistentVolume": true}
	for _, tt := range []struct {
		name string
		opt  string
		on   bool
	}{
		{"default", "", true},
		{"explicitly on", "  lifecycle: {pruneProtection: true}\n", true},
		{"off", "  lifecycle: {pruneProtection: false}\n", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, o := range renderSite(t, siteWithUsers([]string{"oakley"}, features+tt.opt)) {
				a := o.GetAnnotations()
				want := tt.on && protected[o.GetKind()]
				assert.Equal(t, want, a[generators.AnnotationArgoSyncOptions] == generators.ArgoKeep, "%s %s", o.GetKind(), o.GetName())
				assert.Equal(t, want, a[generators.AnnotationArgoCompareOptions] == generators.ArgoIgnoreExtraneous, "%s %s", o.GetKind(), o.GetName())
				assert.Equal(t, want, a[generators.AnnotationFluxPrune] == generators.FluxPruneDisabled, "%s %s", o.GetKind(), o.GetName())
			}
		})
	}
}

// TestFullSiteOrderAndLabels renders fixtures/full-site: site-wide objects first, each
// user's objects in the documented kind order, and the managed labels everywhere.
func TestFullSiteOrderAndLabels(t *testing.T) {
	site, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "fixtures", "full-site", golden.ConfigFile))
	require.NoError(t, err)
	objs := renderSite(t, string(site))
	order := []string{"Namespace", "ServiceAccount", "Secret", "RoleBinding", "NetworkPolicy",
		"ResourceQuota", "LimitRange", "PersistentVolumeClaim", "PersistentVolume", "Ingress"}
	rank := map[string]int{}
	for i, k := range order {
		rank[k] = i
	}
	lastUser, lastRank, siteWide := "", -1, true
	for _, o := range objs {
		l := o.GetLabels()
		assert.Equal(t, generators.ManagedBy, l[generators.LabelManagedBy], o.GetName())
		assert.Equal(t, "ondemand-prod", l[generators.LabelSite], o.GetName())
		user, perUser := l[generators.LabelUser]
		if !perUser {
			assert.True(t, siteWide, "site-wide %s %s after per-user objects", o.GetKind(), o.GetName())
			continue
		}
		siteWide = false
		r, known := rank[o.GetKind()]
		require.True(t, known, "unexpected per-user kind %s", o.GetKind())
		if user != lastUser {
			assert.Equal(t, "Namespace", o.GetKind(), "each user starts with their Namespace")
			lastUser, lastRank = user, r
			continue
		}
		assert.GreaterOrEqual(t, r, lastRank, "%s after a later kind for user %s", o.GetKind(), user)
		lastRank = r
	}
	for _, want := range []struct{ kind, ns, name string }{
		{"ClusterRole", "", generators.JobPodReaperClusterRole},
		{"ClusterRole", "", generators.JobPodReaperListNamespaces},
		{"ClusterRoleBinding", "", generators.JobPodReaperListNamespaces},
		{"ValidatingAdmissionPolicy", "", generators.PodIdentityPolicy},
		{"ValidatingAdmissionPolicyBinding", "", generators.PodIdentityPolicy},
		{"RoleBinding", "user-oakley", "oakley-job-pod-reaper-rolebinding"},
		{"PersistentVolume", "", "user-oakley-home"},
		{"PersistentVolumeClaim", "user-oakley", "home"},
		{"Ingress", "user-oakley", generators.IngressName},
	} {
		find(t, objs, want.kind, want.ns, want.name)
	}
	// The staff profile overrides the backend and the capacity for jane.doe only.
	jane := find(t, objs, "Ingress", "user-jane-doe", generators.IngressName)
	port, err := jane.GetString("spec.rules[0].http.paths[0].backend.service.port.name")
	require.NoError(t, err)
	assert.Equal(t, "http", port)
	oakley := find(t, objs, "Ingress", "user-oakley", generators.IngressName)
	svc, err := oakley.GetString("spec.rules[0].http.paths[0].backend.service.name")
	require.NoError(t, err)
	assert.Equal(t, "backend", svc)
	pv := find(t, objs, "PersistentVolume", "", "user-jane-doe-home")
	capacity, err := pv.GetString("spec.capacity.storage")
	require.NoError(t, err)
	assert.Equal(t, "500Gi", capacity)
	claim, err := pv.GetString("spec.claimRef.namespace")
	require.NoError(t, err)
	assert.Equal(t, "user-jane-doe", claim)
}

func TestNoReaperBindingWhenDisabled(t *testing.T) {
	for _, o := range renderSite(t, siteWithUsers([]string{"oakley"}, "  rbac: {clusterRoles: true}\n")) {
		assert.NotContains(t, o.GetName(), "job-pod-reaper", "%s %s", o.GetKind(), o.GetName())
	}
}

func TestOODNamespaceMismatches(t *testing.T) {
	objs := renderSite(t, siteWithUsers(trickyUsers, "  namespace: {naming: hashed}\n"))
	var users []identity.User
	for _, o := range objs {
		if o.GetKind() == "Namespace" {
			users = append(users, identity.User{Name: o.GetAnnotations()[generators.AnnotationUsername], Namespace: o.GetName()})
		}
	}
	s := siteWithUsers(trickyUsers, "  namespace: {naming: hashed}\n")
	site := parse(t, s)
	var names []string
	for _, m := range generators.OODNamespaceMismatches(site, users) {
		names = append(names, m.User.Name)
		assert.Equal(t, naming.OODNamespace("user-", m.User.Name), m.OODNamespace)
	}
	// Under hashed naming, only names that are already DNS labels short enough for the
	// prefix agree with OOD.
	assert.ElementsMatch(t, []string{"jane.doe", "jane_doe", "Jane.Doe", "jane@doe", "jane.doe.", strings.Repeat("verylongname", 8), strings.Repeat("verylongname", 8) + "x"}, names)
}
