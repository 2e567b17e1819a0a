// Package sitegen writes large synthetic Sites for benchmarks: n users with Open
// OnDemand's defaults, a mix of plain, dotted and email-like names, and groups.
package sitegen

import (
	"fmt"
	"strings"
)

// OOD returns a Site document with n inline users, a default and a staff profile, a
// network policy, and a registry read from registryFile (omitted when empty).
func OOD(n int, registryFile string) []byte {
	var b strings.Builder
	b.Grow(n * 120)
	b.WriteString(`apiVersion: peruser.dev/v1alpha1
kind: Site
metadata:
  name: bench
spec:
  rbac:
    clusterRoles: true
  profiles:
    default:
      quota: {requests.cpu: "4", requests.memory: 8Gi, requests.storage: 100Gi, pods: "20"}
      limits: {defaultRequest: {cpu: 500m, memory: 512Mi}, default: {cpu: "1", memory: 2Gi}, max: {cpu: "4", memory: 8Gi}}
    staff:
      groups: [staff]
      quota: {requests.cpu: "8", requests.memory: 16Gi, pods: "40"}
  networkPolicy:
    allowCIDRs: [10.20.0.0/16]
    allowNamespaces: [ingress-nginx]
`)
	if registryFile != "" {
		fmt.Fprintf(&b, "  registry:\n    dockerConfigJSONFile: %s\n", registryFile)
	}
	b.WriteString("  users:\n")
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("user%05d", i)
		switch i % 10 {
		case 3:
			name = fmt.Sprintf("first.last%05d", i)
		case 7:
			name = fmt.Sprintf("u%05d@example.edu", i)
		}
		group := "science"
		if i%5 == 0 {
			group = "staff"
		}
		fmt.Fprintf(&b, "    - {name: %q, uid: %d, gid: %d, groups: [{name: %s, gid: %d}]}\n",
			name, 100000+i, 100000+i, group, 5000+i%5)
	}
	return []byte(b.String())
}

// DockerConfig is a syntactically valid, fake registry credential.
const DockerConfig = `{"auths":{"registry.example.edu":{"auth":"ZGVtbzpub3QtcmVhbA=="}}}`
