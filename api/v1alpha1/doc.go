// Package v1alpha1 holds the peruser.dev/v1alpha1 API: the Site spec that describes a
// site and its users, and the Hardening the post-renderer applies, as plain Go data with
// defaulting and semantic validation. Loading and schema validation live in package
// spec; generators and harden read these types.
package v1alpha1
