// Package podrules holds the facts about pod templates that the Hardening spec's
// validation (api/v1alpha1) and package harden both apply: image-reference prefixes,
// pod-template paths, and the volume types of the restricted level. It sits below both
// so that neither has to import the other for them.
package podrules

import (
	"fmt"
	"strings"
)

// RestrictedVolumeTypes are the volume sources the restricted level allows
// (k8s.io/pod-security-admission, check restrictedVolumes).
var RestrictedVolumeTypes = []string{
	"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image",
	"persistentVolumeClaim", "projected", "secret",
}

// OtherVolumeTypes are the remaining volume sources of the core API, which a site may
// allow by name.
var OtherVolumeTypes = []string{
	"awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "fc", "flexVolume",
	"flocker", "gcePersistentDisk", "gitRepo", "glusterfs", "hostPath", "iscsi", "nfs",
	"photonPersistentDisk", "portworxVolume", "quobyte", "rbd", "scaleIO", "storageos",
	"vsphereVolume",
}

// ParseTemplatePath splits "spec.replicaSpecs.*.template" into its segments; "[*]" is
// read as ".*".
func ParseTemplatePath(s string) ([]string, error) {
	if s == "" {
		return nil, fmt.Errorf("required field is missing")
	}
	s = strings.ReplaceAll(s, "[*]", ".*")
	segs := strings.Split(s, ".")
	for _, seg := range segs {
		if seg == "" || strings.ContainsAny(seg, " []") {
			return nil, fmt.Errorf("%q is not a dotted field path such as spec.replicaSpecs.*.template", s)
		}
	}
	return segs, nil
}

// IsImagePrefix accepts a registry host (with an optional port) or host/path prefix.
func IsImagePrefix(s string) bool {
	return s != "" && !strings.ContainsAny(s, " \t@") && !strings.Contains(s, "://") &&
		!strings.HasPrefix(s, "/") && !strings.HasSuffix(s, "/")
}

// HasImagePrefix reports whether image reference ref starts with prefix at a component
// boundary: docker.io matches docker.io/library/nginx but not docker.io.example.com/x;
// a prefix with a path also matches up to a tag or digest (ghcr.io/org/app:1).
func HasImagePrefix(ref, prefix string) bool {
	if !strings.HasPrefix(ref, prefix) {
		return false
	}
	if len(ref) == len(prefix) {
		return true
	}
	switch ref[len(prefix)] {
	case '/':
		return true
	case ':', '@':
		// After a bare host a colon starts a port, which is a different registry.
		return strings.Contains(prefix, "/")
	}
	return false
}

// FullImageName spells out the registry Docker assumes: nginx → docker.io/library/nginx,
// org/app → docker.io/org/app. References that name a registry are returned as they are.
func FullImageName(ref string) string {
	first, _, found := strings.Cut(ref, "/")
	if found && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return ref
	}
	if !found {
		return "docker.io/library/" + ref
	}
	return "docker.io/" + ref
}
