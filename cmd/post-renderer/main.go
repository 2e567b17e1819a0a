// Command post-renderer hardens Kubernetes YAML so that every pod runs as one user's
// POSIX identity and passes the Pod Security Standards "restricted" level: a Helm 3
// post-renderer, the Helm 4 plugin's executable, and a kustomize KRM transformer.
package main

import "github.com/peruser-dev/peruser/postrender"

func main() { postrender.Main() }
