package generators

import (
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/identity"
)

const netAPI = "networking.k8s.io/v1"

// NetworkPolicy names; the first is the name OOD's hook uses.
const (
	NetworkPolicyIngress = "deny-from-other-namespaces"
	NetworkPolicyEgress  = "restrict-egress"
)

// networkPolicies isolate the user's pods: ingress only from the same namespace, the
// site's allowed CIDRs (the OOD web nodes) and allowed namespaces; with egress
// restriction, egress only to the same namespace, cluster DNS and allowed CIDRs.
func (g *generator) networkPolicies(u identity.User, labels map[string]string) []*yaml.Node {
	np := g.site.Spec.NetworkPolicy
	peers := []*yaml.Node{mapping("podSelector", emptyMap())}
	for _, c := range np.AllowCIDRs {
		peers = append(peers, mapping("ipBlock", mapping("cidr", c)))
	}
	for _, ns := range np.AllowNamespaces {
		peers = append(peers, namespacePeer(ns, nil))
	}
	out := []*yaml.Node{object(netAPI, "NetworkPolicy", meta(NetworkPolicyIngress, u.Namespace, labels, nil),
		"spec", mapping(
			"podSelector", emptyMap(),
			"ingress", seq(mapping("from", seq(peers...))),
			"policyTypes", []string{"Ingress"},
		))}
	if !np.Egress.Restrict {
		return out
	}
	// Any pod of kube-system, not only k8s-app=kube-dns: DNS add-ons label their pods
	// differently. A node-local DNS cache is on the host network, out of reach of a pod
	// selector: its address comes from dnsAddresses, on port 53 only.
	dnsPeers := []*yaml.Node{namespacePeer("kube-system", nil)}
	for _, a := range np.Egress.DNSAddresses {
		dnsPeers = append(dnsPeers, mapping("ipBlock", mapping("cidr", v1alpha1.DNSCIDR(a))))
	}
	dns := mapping(
		"ports", seq(
			mapping("port", 53, "protocol", "UDP"),
			mapping("port", 53, "protocol", "TCP")),
		"to", seq(dnsPeers...))
	rules := []*yaml.Node{mapping("to", seq(mapping("podSelector", emptyMap()))), dns}
	if len(np.Egress.AllowCIDRs) > 0 {
		to := make([]*yaml.Node, len(np.Egress.AllowCIDRs))
		for i, c := range np.Egress.AllowCIDRs {
			to[i] = mapping("ipBlock", mapping("cidr", c))
		}
		rules = append(rules, mapping("to", seq(to...)))
	}
	out = append(out, object(netAPI, "NetworkPolicy", meta(NetworkPolicyEgress, u.Namespace, labels, nil),
		"spec", mapping(
			"egress", seq(rules...),
			"podSelector", emptyMap(),
			"policyTypes", []string{"Egress"},
		)))
	return out
}

// namespacePeer selects pods of namespace ns by its immutable metadata.name label,
// optionally narrowed by a pod selector.
func namespacePeer(ns string, podSelector *yaml.Node) *yaml.Node {
	return mapping(
		"namespaceSelector", mapping("matchLabels", map[string]string{"kubernetes.io/metadata.name": ns}),
		"podSelector", podSelector)
}
