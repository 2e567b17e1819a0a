package generators

import (
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/identity"
)

// IngressName is the name of each user's Ingress. Fixed, so that changing the site's
// domain or backend updates the object in place.
const IngressName = "peruser"

// IngressHost is user u's host: <slug>.<domain>. Slugs are DNS labels and unique per
// site (package naming refuses collisions), so no two users share a host, and one
// wildcard certificate for *.<domain> covers them all.
func IngressHost(u identity.User, domain string) string {
	return u.Slug + "." + domain
}

// ingress is the user's Ingress, when the site configures one: TLS for the user's host
// (with the site's secret name, or none for the controller's default certificate), the backend Service of the user's profile (or the site's), and the source
// ranges as ingress-nginx's allow-list annotation.
func (g *generator) ingress(u identity.User, labels map[string]string) []*yaml.Node {
	in := g.site.Spec.Ingress
	if in == nil {
		return nil
	}
	host := IngressHost(u, in.Domain)
	annotations := make(map[string]string, len(in.Annotations)+1)
	for k, v := range in.Annotations {
		annotations[k] = v
	}
	if len(in.SourceRanges) > 0 {
		ranges := append([]string(nil), in.SourceRanges...)
		sort.Strings(ranges)
		annotations[v1alpha1.AnnotationNginxWhitelist] = strings.Join(ranges, ",")
	}
	service, port := g.site.IngressBackendFor(u.Profile)
	var portNode *yaml.Node
	if port.Name != "" {
		portNode = mapping("name", port.Name)
	} else {
		portNode = mapping("number", int64(port.Number))
	}
	var class *yaml.Node
	if in.ClassName != "" {
		class = str(in.ClassName)
	}
	path := mapping(
		"backend", mapping("service", mapping("name", service, "port", portNode)),
		"path", "/",
		"pathType", "Prefix")
	return []*yaml.Node{object(netAPI, "Ingress", meta(IngressName, u.Namespace, labels, annotations),
		"spec", mapping(
			"ingressClassName", class,
			"rules", seq(mapping("host", host, "http", mapping("paths", seq(path)))),
			"tls", seq(mapping("hosts", []string{host}, "secretName", optionalStr(in.TLSSecretName))),
		))}
}

// optionalStr is a string value that mapping leaves out when empty.
func optionalStr(s string) *yaml.Node {
	if s == "" {
		return nil
	}
	return str(s)
}
