// Package harden rewrites the pod templates in a stream of Kubernetes YAML so that every
// pod runs as one user's POSIX identity and passes the Pod Security Standards
// "restricted" level. It is pure: bytes in, bytes out, errors that name the document and
// the field. It applies a v1alpha1.HardeningSpec (checked by the spec's own Validate)
// for one resolved Identity. The Helm post-renderer, the Helm 4 plugin and the KRM
// transformer in package postrender are thin front-ends over it.
package harden
