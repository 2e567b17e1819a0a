package generators

import (
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/identity"
)

// serviceAccount is the namespace's default ServiceAccount. peruser emits it rather than
// patching the one the ServiceAccount controller creates: OOD's hook races that
// controller, and the pull secret must be listed from the first pod on.
func (g *generator) serviceAccount(u identity.User, labels map[string]string) *yaml.Node {
	var pull *yaml.Node
	if reg := g.site.Spec.Registry; reg != nil {
		pull = seq(mapping("name", reg.SecretName))
	}
	return object("v1", "ServiceAccount", meta("default", u.Namespace, labels, nil),
		"imagePullSecrets", pull)
}
