package spec

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	// Defines -update, so that `go test ./... -update` runs in every package.
	_ "github.com/peruser-dev/peruser/internal/golden"
)

func TestSplitPath(t *testing.T) {
	tests := []struct {
		path string
		want []string
	}{
		{"spec.users[2].uid", []string{"spec", "users", "2", "uid"}},
		{`spec.namespace.labels["app.kubernetes.io/name"]`, []string{"spec", "namespace", "labels", "app.kubernetes.io/name"}},
		{`spec.profiles.default.quota["requests.cpu"]`, []string{"spec", "profiles", "default", "quota", "requests.cpu"}},
		{`x["a]b"].c`, []string{"x", "a]b", "c"}},
		{"", nil},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, splitPath(tt.path), tt.path)
	}
}

func TestErrorsNameFileLineAndField(t *testing.T) {
	src := []byte(`apiVersion: peruser.dev/v1alpha1
kind: Site
metadata:
  name: s
spec:
  namespace:
    labels:
      "bad key!": x
  users:
    - name: oakley
      uid: 20001
      gid: 20001
    - name: annie
      uid: 0
      gid: 20002
`)
	_, err := Parse(src, "site.yaml")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "site.yaml:14: spec.users[1].uid: must be ≥ 1, got 0")

	_, err = Parse([]byte(`apiVersion: peruser.dev/v1alpha1
kind: Site
metadata: {name: s}
spec:
  namespace:
    labels:
      "bad key!": x
`), "site.yaml")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `site.yaml:7: spec.namespace.labels["bad key!"]: invalid key`)
}

func TestParseRefusesStreamsAndEmptyFiles(t *testing.T) {
	_, err := Parse([]byte("# nothing\n"), "site.yaml")
	assert.ErrorContains(t, err, "site.yaml: no document found")
	_, err = Parse([]byte("apiVersion: v1\nkind: A\n---\napiVersion: v1\nkind: B\n"), "site.yaml")
	assert.ErrorContains(t, err, "holds 2 documents")
}

func TestDefaultsMatchOpenOnDemand(t *testing.T) {
	site, err := Parse([]byte("apiVersion: peruser.dev/v1alpha1\nkind: Site\nmetadata: {name: s}\nspec: {}\n"), "site.yaml")
	require.NoError(t, err)
	assert.Equal(t, "user-", *site.Spec.Namespace.Prefix)
	assert.Equal(t, "restricted", *site.Spec.Namespace.PodSecurity)
	assert.Equal(t, "ood-user", site.Spec.RBAC.UserClusterRole)
	assert.Equal(t, "ood-initializer", site.Spec.RBAC.ServiceAccountClusterRole)
}
