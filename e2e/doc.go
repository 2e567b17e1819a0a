// Package e2e holds peruser's end-to-end tests: the example site rendered by the real
// kustomize and applied server-side to a real kube-apiserver, then judged by the API server
// itself (RBAC, Pod Security Admission, the ValidatingAdmissionPolicy, quotas, pruning).
//
// The tests start kube-apiserver and etcd from KUBEBUILDER_ASSETS (default ../bin/controlplane,
// built by `make controlplane`), or use the cluster of PERUSER_E2E_KUBECONFIG and start
// nothing. See README.md.
package e2e
