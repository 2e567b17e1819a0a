package generators

import (
	"encoding/base64"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/identity"
)

// pullSecret is the registry's kubernetes.io/dockerconfigjson Secret in the user's
// namespace, or the ExternalSecret that makes it; nil when the site has no registry.
func (g *generator) pullSecret(u identity.User, labels map[string]string) *yaml.Node {
	reg := g.site.Spec.Registry
	if reg == nil {
		return nil
	}
	if es := reg.ExternalSecret; es != nil {
		return externalSecret(reg.SecretName, u.Namespace, labels, es)
	}
	return object("v1", "Secret", meta(reg.SecretName, u.Namespace, labels, nil),
		"type", "kubernetes.io/dockerconfigjson",
		"data", mapping(".dockerconfigjson", g.dockerConfigB64))
}

// externalSecret asks the External Secrets Operator for a dockerconfigjson Secret named
// name: the store's value becomes the .dockerconfigjson key, and the template only sets
// the Secret's type, so the operator copies the value as it is.
func externalSecret(name, namespace string, labels map[string]string, es *v1alpha1.ExternalSecret) *yaml.Node {
	remote := mapping("key", es.Key)
	if es.Property != "" {
		remote = mapping("key", es.Key, "property", es.Property)
	}
	return object(es.APIVersion, "ExternalSecret", meta(name, namespace, labels, nil),
		"spec", mapping(
			"refreshInterval", es.RefreshInterval,
			"secretStoreRef", mapping("kind", es.StoreRef.Kind, "name", es.StoreRef.Name),
			"target", mapping(
				"name", name,
				"creationPolicy", "Owner",
				"template", mapping("type", "kubernetes.io/dockerconfigjson")),
			"data", seq(mapping("secretKey", ".dockerconfigjson", "remoteRef", remote))))
}

func encodeBase64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
