// Package postrender is the post-renderer's command line over package harden: the Helm 3
// post-renderer and Helm 4 plugin (flags, or a Hardening file), and with no arguments
// (or `krm`) a KRM transformer whose functionConfig is a Hardening. See docs/post-renderer.md.
package postrender
