package harden

import (
	"testing"

	"github.com/peruser-dev/peruser/api/v1alpha1"
)

func TestRegistryRewrite(t *testing.T) {
	rw := newRewriter([]v1alpha1.RegistryRewrite{
		{From: "docker.io", To: "registry.example.edu/hub"},
		{From: "docker.io/bitnami", To: "registry.example.edu/bitnami"},
		{From: "ghcr.io/org", To: "registry.example.edu/org"},
		{From: "localhost", To: "registry.example.edu/local"},
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
