// Package harness runs peruser's end-to-end suite against a Kubernetes API server: either a
// local kube-apiserver and etcd started with controller-runtime's envtest, or any cluster
// given by a kubeconfig. It wraps the real CLIs the suite drives (kubectl, kustomize) and the
// API calls it judges by (SubjectAccessReviews, server-side dry-run creates).
package harness
