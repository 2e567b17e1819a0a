package v1alpha1

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peruser-dev/peruser/field"
)

func messages(errs field.List) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString(e.Error() + "\n")
	}
	return b.String()
}

func TestPathTemplate(t *testing.T) {
	tests := []struct {
		path string
		want string // "" = valid
	}{
		{"/home/{user}", ""},
		{"/exports/{uid}/{slug}", ""},
		{"/", ""},
		{"/home/..", "path traversal"},
		{"/home/../etc/{user}", "path traversal"},
		{"/home/{user}/..", "path traversal"},
		{"/home/{user}..", ""}, // a name ending in dots is not a '..' segment
		{"home/{user}", "must be an absolute path"},
		{"../{user}", "must be an absolute path"},
		{"/home//{user}", "empty segment"},
		{"/home/{user}/", "empty segment"},
		{"/home/./{user}", "'.' segment"},
		{"/home/{group}", "unknown placeholder {group}"},
		{"/home/{user", "unbalanced brace"},
		{"/home/user}", "unbalanced brace"},
		{"/home/{user}\n", "control characters"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got := messages(validatePathTemplate("spec.storage.nfs.path", tt.path, PathPlaceholders))
			if tt.want == "" {
				assert.Empty(t, got)
				return
			}
			assert.Contains(t, got, tt.want)
			assert.Contains(t, got, "spec.storage.nfs.path: ")
		})
	}
}

func TestIngressDomain(t *testing.T) {
	tests := []struct {
		domain, prefix, want string
	}{
		{"pods.example.edu", "user-", ""},
		{"example", "user-", ""},
		{"*.pods.example.edu", "user-", `is a wildcard; give the parent domain ("pods.example.edu")`},
		{"https://pods.example.edu", "user-", "is not a domain"},
		{"pods.example.edu:443", "user-", "is not a domain"},
		{"Pods.Example.edu", "user-", "is not a valid DNS name"},
		{"pods_example.edu", "user-", "is not a valid DNS name"},
		{"", "user-", "is not a valid DNS name"},
		{strings.Repeat("a", 62) + "." + strings.Repeat("b", 62) + "." + strings.Repeat("c", 62) + ".edu", "", "too long"},
		{strings.Repeat("a", 62) + "." + strings.Repeat("b", 62) + "." + strings.Repeat("c", 62) + ".edu", "user-", ""},
	}
	for _, tt := range tests {
		t.Run(tt.domain, func(t *testing.T) {
			s := &Site{Spec: SiteSpec{
				Namespace: NamespaceSpec{Prefix: &tt.prefix},
				Ingress:   &Ingress{Domain: tt.domain, TLSSecretName: "wildcard"},
			}}
			s.Default()
			got := messages(s.validateIngress("spec.ingress", s.Spec.Ingress))
			if tt.want == "" {
				assert.Empty(t, got)
				return
			}
			assert.Contains(t, got, "spec.ingress.domain: ")
			assert.Contains(t, got, tt.want)
		})
	}
}

func TestServicePortJSON(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want ServicePort
	}{
		{`8080`, ServicePort{Number: 8080}},
		{`"http"`, ServicePort{Name: "http"}},
	} {
		var p ServicePort
		require.NoError(t, json.Unmarshal([]byte(tt.in), &p))
		assert.Equal(t, tt.want, p)
		out, err := json.Marshal(p)
		require.NoError(t, err)
		assert.JSONEq(t, tt.in, string(out))
	}
	var p ServicePort
	assert.Error(t, json.Unmarshal([]byte(`[1]`), &p))
}

// TestFeatureDefaults: Default fills the features in, is idempotent, and derives the
// OOD settings from the rest of the spec.
func TestFeatureDefaults(t *testing.T) {
	s := &Site{
		Metadata: ObjectMeta{Name: "ondemand"},
		Spec: SiteSpec{
			RBAC:         RBAC{SubjectPrefix: "oidc:"},
			Ingress:      &Ingress{Domain: "pods.example.edu", TLSSecretName: "w"},
			Storage:      &Storage{NFS: &NFS{Server: "nfs", Path: "/home/{user}"}, Capacity: "1Gi"},
			OpenOnDemand: &OpenOnDemand{Server: OODServer{Endpoint: "https://k8s:6443"}},
		},
	}
	s.Default()
	first, err := json.Marshal(s)
	require.NoError(t, err)
	s.Default()
	second, err := json.Marshal(s)
	require.NoError(t, err)
	assert.JSONEq(t, string(first), string(second))

	assert.Equal(t, DefaultIngressService, s.Spec.Ingress.Backend.Service)
	assert.Equal(t, ServicePort{Number: DefaultIngressPort}, *s.Spec.Ingress.Backend.Port)
	assert.Equal(t, DefaultClaimName, s.Spec.Storage.ClaimName)
	assert.Equal(t, []string{DefaultJobPodReaperObjectLabels}, s.Spec.Reapers.JobPodReaper.ObjectLabels)
	assert.Equal(t, DefaultReapAfter, s.Spec.Reapers.NamespaceReaper.ReapAfter)
	assert.True(t, s.Spec.Lifecycle.PruneProtected())
	ood := s.Spec.OpenOnDemand
	assert.Equal(t, "ondemand", ood.Cluster)
	assert.Equal(t, "ondemand", ood.Title)
	assert.Equal(t, "oidc", ood.Auth)
	assert.Equal(t, "oidc:", *ood.UsernamePrefix)
	assert.True(t, *ood.AutoSupplementalGroups)
	assert.Empty(t, messages(s.Validate()))

	// An explicit empty objectLabels list stays empty: reap every pod with a lifetime.
	s.Spec.Reapers.JobPodReaper.ObjectLabels = []string{}
	s.Default()
	assert.Empty(t, s.Spec.Reapers.JobPodReaper.ObjectLabels)
	assert.NotNil(t, s.Spec.Reapers.JobPodReaper.ObjectLabels)
}

func TestProfileOverrides(t *testing.T) {
	s := &Site{Spec: SiteSpec{
		Ingress: &Ingress{Domain: "d", TLSSecretName: "w", Backend: IngressBackend{Service: "site", Port: &ServicePort{Number: 80}}},
		Storage: &Storage{NFS: &NFS{Server: "nfs", Path: "/h/{user}"}, Capacity: "10Gi"},
		Profiles: map[string]Profile{
			"port-only": {Ingress: &ProfileIngress{Backend: IngressBackend{Port: &ServicePort{Name: "http"}}}},
			"big":       {Storage: &ProfileStorage{Capacity: "1Ti"}},
		},
	}}
	s.Default()
	svc, port := s.IngressBackendFor("port-only")
	assert.Equal(t, "site", svc)
	assert.Equal(t, "http", port.String())
	svc, port = s.IngressBackendFor("")
	assert.Equal(t, "site", svc)
	assert.Equal(t, "80", port.String())
	assert.Equal(t, Quantity("1Ti"), s.StorageCapacityFor("big"))
	assert.Equal(t, Quantity("10Gi"), s.StorageCapacityFor("port-only"))
	assert.Equal(t, Quantity("10Gi"), s.StorageCapacityFor(""))
}
