// Package harden rewrites the pod templates in a stream of Kubernetes YAML so that every
// pod runs as one user's POSIX identity and passes the Pod Security Standards
// "restricted" level. It is pure: bytes in, bytes out, errors that name the document and
// the field. The Helm post-renderer, the Helm 4 plugin and the KRM transformer in
// cmd/post-renderer are thin front-ends over it.
package harden
