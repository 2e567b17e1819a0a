// Package generators turns a resolved site into Kubernetes objects. Every generator is
// a pure function of the Site, one resolved user and the render-time inputs read at
// the edge (file contents), with one file per resource family. Objects are built as
// YAML nodes in the field order and canonical form the apiserver stores, so that a
// second server-side apply is a no-op and the same input always gives the same bytes.
package generators
