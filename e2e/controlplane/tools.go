//go:build tools

// Package controlplane pins the Kubernetes commands the e2e suite builds; `go build` of these
// import paths (see build.sh) produces the binaries. The tools build tag keeps this file out of
// every ordinary build.
package controlplane

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
