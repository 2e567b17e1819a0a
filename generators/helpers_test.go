package generators_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/directory"
	"github.com/peruser-dev/peruser/generators"
	"github.com/peruser-dev/peruser/identity"
	// Defines -update, so that `go test ./... -update` runs in every package.
	_ "github.com/peruser-dev/peruser/internal/golden"
	"github.com/peruser-dev/peruser/resolve"
	"github.com/peruser-dev/peruser/spec"
)

// parse loads a Site from YAML text the way krm-fn does.
func parse(t *testing.T, site string) *v1alpha1.Site {
	t.Helper()
	s, err := spec.Parse([]byte(site), "site.yaml")
	require.NoError(t, err)
	return s
}

// resolved loads a Site from YAML text (parse) and resolves its users: the inline ones
// and snap's (nil for none).
func resolved(t *testing.T, site string, snap *directory.Snapshot) (*v1alpha1.Site, []identity.User) {
	t.Helper()
	s := parse(t, site)
	users, err := resolve.Users(s, snap.Identities(), nil)
	require.NoError(t, err)
	return s, users
}

// renderSite loads a Site from YAML text the way krm-fn does, resolves its inline users
// and generates its objects.
func renderSite(t *testing.T, site string) []*yaml.RNode {
	t.Helper()
	s, users := resolved(t, site, nil)
	objs, err := generators.Generate(s, users, generators.Inputs{})
	require.NoError(t, err)
	return objs
}

// find returns the object of kind and name (and namespace, when not ""), or fails.
func find(t *testing.T, objs []*yaml.RNode, kind, namespace, name string) *yaml.RNode {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name && (namespace == "" || o.GetNamespace() == namespace) {
			return o
		}
	}
	require.Failf(t, "object not found", "%s %s/%s", kind, namespace, name)
	return nil
}
