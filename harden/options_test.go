package harden

import (
	"strings"
	"testing"
)

func TestOptionsValidate(t *testing.T) {
	ok := Identity{UID: 20001, GID: 20001}
	tests := []struct {
		name string
		opts Options
		want []string // substrings of the error lines, in order; none means valid
	}{
		{"minimal", Options{Identity: ok}, nil},
		{"root uid", Options{Identity: Identity{UID: 0, GID: 1}}, []string{"identity.uid: must be between 1 and 2147483647, got 0 (uid 0 is root)"}},
		{"root gid", Options{Identity: Identity{UID: 1, GID: 0}}, []string{"identity.gid: must be between 1 and 2147483647, got 0"}},
		{"negative", Options{Identity: Identity{UID: -5, GID: 1}}, []string{"identity.uid: must be between 1 and 2147483647, got -5"}},
		{"system supplemental group", Options{Identity: Identity{UID: 1, GID: 1, SupplementalGroups: []int64{30001, 0}}},
			[]string{"identity.supplementalGroups[1]: must be ≥ 1000, got 0"}},
		{"lifetime", Options{Identity: ok, Lifetime: "1d"}, []string{`lifetime: must be a positive Go duration such as 8h or 90m, got "1d"`}},
		{"negative lifetime", Options{Identity: ok, Lifetime: "-1h"}, []string{"lifetime: must be a positive"}},
		{"label", Options{Identity: ok, Labels: map[string]string{"Bad Key": "v", "ok/k": "bad value!"}},
			[]string{`labels["Bad Key"]: key name "Bad Key"`, `labels["ok/k"]: value "bad value!"`}},
		{"pull secret", Options{Identity: ok, ImagePullSecrets: []string{"Regcred"}}, []string{`imagePullSecrets[0]: must be a Secret name`}},
		{"rewrite to docker hub", Options{Identity: ok, RegistryRewrites: []RegistryRewrite{{"quay.io", "mirror/quay"}}},
			[]string{"registryRewrites[0].to: must start with a registry host"}},
		{"rewrite onto itself", Options{Identity: ok, RegistryRewrites: []RegistryRewrite{{"docker.io", "docker.io/mirror"}}},
			[]string{`registryRewrites[0].to: "docker.io/mirror" would be rewritten again by from "docker.io"`}},
		{"rewrite chain", Options{Identity: ok, RegistryRewrites: []RegistryRewrite{{"a.io", "b.io/x"}, {"b.io", "c.io"}}},
			[]string{`registryRewrites[0].to: "b.io/x" would be rewritten again by from "b.io" (registryRewrites[1])`}},
		{"rewrite from URL", Options{Identity: ok, RegistryRewrites: []RegistryRewrite{{"https://docker.io", "c.io"}}},
			[]string{"registryRewrites[0].from: must be a registry host"}},
		{"template path", Options{Identity: ok, PodTemplatePaths: []PodTemplatePath{{Kind: "", Path: "spec..template"}}},
			[]string{"podTemplatePaths[0].kind: required", "podTemplatePaths[0].path: \"spec..template\" is not a dotted field path"}},
		{"host path root", Options{Identity: ok, Exceptions: Exceptions{HostPathPrefixes: []string{"/", "users/"}}},
			[]string{"exceptions.hostPathPrefixes[0]: must not be /", "exceptions.hostPathPrefixes[1]: must be an absolute path"}},
		{"volume types", Options{Identity: ok, Exceptions: Exceptions{VolumeTypes: []string{"hostPath", "emptyDir", "nsf", "nfs"}}},
			[]string{"volumeTypes[0]: hostPath is allowed by directory", "volumeTypes[1]: emptyDir is always allowed", `volumeTypes[2]: unknown volume type "nsf"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := tt.opts.Validate()
			if len(errs) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(tt.want), errs)
			}
			for i, w := range tt.want {
				if !strings.Contains(errs[i].Error(), w) {
					t.Errorf("error %d = %q, want it to contain %q", i, errs[i].Error(), w)
				}
			}
			if _, err := New(tt.opts); (err == nil) != (len(tt.want) == 0) {
				t.Errorf("New error = %v", err)
			}
		})
	}
}

func TestRegistryRewrite(t *testing.T) {
	rw := newRewriter([]RegistryRewrite{
		{"docker.io", "registry.example.edu/hub"},
		{"docker.io/bitnami", "registry.example.edu/bitnami"},
		{"ghcr.io/org", "registry.example.edu/org"},
		{"localhost", "registry.example.edu/local"},
	})
	tests := []struct{ in, want string }{
		{"nginx", "registry.example.edu/hub/library/nginx"},
		{"nginx:1.27", "registry.example.edu/hub/library/nginx:1.27"},
		{"jupyter/base-notebook", "registry.example.edu/hub/jupyter/base-notebook"},
		{"docker.io/library/nginx@sha256:abc", "registry.example.edu/hub/library/nginx@sha256:abc"},
		{"bitnami/redis:7", "registry.example.edu/bitnami/redis:7"}, // the longest from wins
		{"ghcr.io/org/app:1", "registry.example.edu/org/app:1"},
		{"ghcr.io/org:1", "registry.example.edu/org:1"},
		{"ghcr.io/organisation/app", "ghcr.io/organisation/app"}, // not at a boundary
		{"docker.io.example.com/x", "docker.io.example.com/x"},
		{"localhost/app", "registry.example.edu/local/app"},
		{"localhost:5000/app", "localhost:5000/app"}, // a port makes another registry
		{"quay.io/app", "quay.io/app"},
		{"registry.example.edu/hub/library/nginx", "registry.example.edu/hub/library/nginx"},
	}
	for _, tt := range tests {
		got, _ := rw.rewrite(tt.in)
		if got != tt.want {
			t.Errorf("rewrite(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
