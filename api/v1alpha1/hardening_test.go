package v1alpha1_test

import (
	"strings"
	"testing"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/field"
)

// TestHardeningSpecValidate: every value check of a Hardening, at spec paths.
func TestHardeningSpecValidate(t *testing.T) {
	id := func(uid, gid int64, groups ...int64) v1alpha1.HardeningIdentity {
		return v1alpha1.HardeningIdentity{UID: &uid, GID: &gid, SupplementalGroups: groups}
	}
	ok := id(20001, 20001)
	tests := []struct {
		name string
		spec v1alpha1.HardeningSpec
		want []string // substrings of the error lines, in order; none means valid
	}{
		{"minimal", v1alpha1.HardeningSpec{Identity: ok}, nil},
		{"a site", v1alpha1.HardeningSpec{Identity: v1alpha1.HardeningIdentity{Site: "site.yaml", User: "oakley"}}, nil},
		{"no identity", v1alpha1.HardeningSpec{}, []string{"spec.identity: give uid and gid"}},
		{"root", v1alpha1.HardeningSpec{Identity: id(0, 0)}, []string{
			"spec.identity.uid: must be between 1 and 2147483647, got 0 (uid 0 is root)", "spec.identity.gid: must be between 1 and 2147483647, got 0"}},
		{"negative", v1alpha1.HardeningSpec{Identity: id(-5, 1)}, []string{"spec.identity.uid: must be between 1 and 2147483647, got -5"}},
		{"above 2^31-1", v1alpha1.HardeningSpec{Identity: id(3000000000, 1, 1<<32)}, []string{
			"spec.identity.uid: must be between 1 and 2147483647, got 3000000000", "spec.identity.supplementalGroups[0]: must be between 1 and 2147483647, got 4294967296"}},
		{"system supplemental group", v1alpha1.HardeningSpec{Identity: id(1, 1, 30001, 0)},
			[]string{"spec.identity.supplementalGroups[1]: must be ≥ 1000, got 0"}},
		{"lifetime", v1alpha1.HardeningSpec{Identity: ok, Lifetime: "1d"}, []string{`spec.lifetime: "1d" is not a Go duration such as 168h or 30m`}},
		{"negative lifetime", v1alpha1.HardeningSpec{Identity: ok, Lifetime: "-1h"}, []string{"spec.lifetime: must be positive, got -1h"}},
		{"label", v1alpha1.HardeningSpec{Identity: ok, Labels: map[string]string{"Bad Key": "v", "ok/k": "bad value!"}},
			[]string{`spec.labels["Bad Key"]: invalid key`, `spec.labels["ok/k"]: invalid label value "bad value!"`}},
		{"pull secret", v1alpha1.HardeningSpec{Identity: ok, ImagePullSecrets: []string{"Regcred"}}, []string{`spec.imagePullSecrets[0]: "Regcred" is not a valid name`}},
		{"rewrite to docker hub", v1alpha1.HardeningSpec{Identity: ok, RegistryRewrites: []v1alpha1.RegistryRewrite{{From: "quay.io", To: "mirror/quay"}}},
			[]string{"spec.registryRewrites[0].to: must start with a registry host"}},
		{"rewrite onto itself", v1alpha1.HardeningSpec{Identity: ok, RegistryRewrites: []v1alpha1.RegistryRewrite{{From: "docker.io", To: "docker.io/mirror"}}},
			[]string{`spec.registryRewrites[0].to: "docker.io/mirror" would be rewritten again by from "docker.io"`}},
		{"rewrite chain", v1alpha1.HardeningSpec{Identity: ok, RegistryRewrites: []v1alpha1.RegistryRewrite{{From: "a.io", To: "b.io/x"}, {From: "b.io", To: "c.io"}}},
			[]string{`spec.registryRewrites[0].to: "b.io/x" would be rewritten again by from "b.io" (registryRewrites[1])`}},
		{"rewrite from URL", v1alpha1.HardeningSpec{Identity: ok, RegistryRewrites: []v1alpha1.RegistryRewrite{{From: "https://docker.io", To: "c.io"}}},
			[]string{"spec.registryRewrites[0].from: must be a registry host"}},
		{"template path", v1alpha1.HardeningSpec{Identity: ok, PodTemplatePaths: []v1alpha1.PodTemplatePath{{Kind: "", Path: "spec..template"}}},
			[]string{"spec.podTemplatePaths[0].kind: required", "spec.podTemplatePaths[0].path: \"spec..template\" is not a dotted field path"}},
		{"init container name", v1alpha1.HardeningSpec{Identity: ok, DropInitContainers: []string{"Volume_Permissions"}},
			[]string{`spec.dropInitContainers[0]: must be a container name (lowercase DNS label), got "Volume_Permissions"`}},
		{"host path root", v1alpha1.HardeningSpec{Identity: ok, Exceptions: v1alpha1.HardeningExceptions{HostPathPrefixes: []string{"/", "users/"}}},
			[]string{"spec.exceptions.hostPathPrefixes[0]: must not be /", "spec.exceptions.hostPathPrefixes[1]: must be an absolute path"}},
		{"volume types", v1alpha1.HardeningSpec{Identity: ok, Exceptions: v1alpha1.HardeningExceptions{VolumeTypes: []string{"hostPath", "emptyDir", "nsf", "nfs"}}},
			[]string{"spec.exceptions.volumeTypes[0]: hostPath is allowed by directory", "spec.exceptions.volumeTypes[1]: emptyDir is always allowed", `spec.exceptions.volumeTypes[2]: unknown volume type "nsf"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := tt.spec.Validate(field.Path("spec"))
			if len(errs) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(tt.want), errs)
			}
			for i, w := range tt.want {
				if !strings.Contains(errs[i].Error(), w) {
					t.Errorf("error %d = %q, want it to contain %q", i, errs[i].Error(), w)
				}
			}
		})
	}
}
