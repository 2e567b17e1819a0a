package v1alpha1

import (
	"strings"

	"github.com/peruser-dev/peruser/field"
)

// certManagerIssuers are the Ingress annotations with which cert-manager issues a
// certificate for the Ingress's own hosts into the Secret it names.
var certManagerIssuers = []string{"cert-manager.io/cluster-issuer", "cert-manager.io/issuer"}

// Warnings are what a site may do but probably should not; krm-fn prints them on
// stderr and renders anyway. Call after Validate.
func (s *Site) Warnings() field.List {
	var out field.List
	if in := s.Spec.Ingress; in != nil && in.TLSSecretName != "" {
		perHost := false
		for _, k := range certManagerIssuers {
			if _, ok := in.Annotations[k]; ok {
				perHost = true
			}
		}
		if !perHost {
			out = append(out, field.Errorf("spec.ingress.tlsSecretName",
				"every user namespace must hold a Secret %q: if it is a copy of one wildcard key, every user can read it (ood-user may get Secrets) and serve any other user's host; "+
					"leave tlsSecretName out to use the ingress controller's default certificate (ingress-nginx --default-ssl-certificate), "+
					"or add a %s annotation so that cert-manager issues each host its own certificate (docs/security.md)",
				in.TLSSecretName, strings.Join(certManagerIssuers, " or ")))
		}
	}
	return out
}
