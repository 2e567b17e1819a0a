// Command krm-fn renders per-user Kubernetes namespaces from a peruser Site: as a
// kustomize KRM function (no arguments) or standalone (`krm-fn render SITE.yaml`).
package main

import "github.com/peruser-dev/peruser/krmfn"

func main() { krmfn.Main() }
