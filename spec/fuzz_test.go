package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/internal/golden"
	"github.com/peruser-dev/peruser/internal/testenv"
)

// FuzzParse feeds arbitrary bytes to the loader: it must never panic, and it either
// returns a defaulted Site that passes its own validation or field errors whose every
// line names the source. The seed corpus is every fixture's Site (config.yaml).
func FuzzParse(f *testing.F) {
	sites, _ := filepath.Glob(filepath.Join(testenv.RepoRoot(), "fixtures", "*", golden.ConfigFile))
	for _, p := range sites {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("apiVersion: peruser.dev/v1alpha1\nkind: Site\nmetadata: {name: s}\nspec: {users: [{name: a, uid: 1, gid: 1}]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		site, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if l, ok := err.(field.List); ok {
				for _, e := range l {
					if e.Source != "fuzz.yaml" {
						t.Fatalf("error without source: %q", e.Error())
					}
				}
			}
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if site.Spec.Namespace.Prefix == nil || site.Spec.Namespace.PodSecurity == nil {
			t.Fatal("defaults not applied")
		}
		if errs := site.Validate(); len(errs) > 0 {
			t.Fatalf("accepted a site that fails validation: %v", errs)
		}
	})
}

// FuzzHardening feeds arbitrary bytes to the Hardening loader (the post-renderer's
// --config file and KRM functionConfig): never a panic, and errors name the source.
func FuzzHardening(f *testing.F) {
	for _, glob := range []string{"fixtures/harden/*/config.yaml"} {
		paths, _ := filepath.Glob(filepath.Join(testenv.RepoRoot(), glob))
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte("apiVersion: peruser.dev/v1alpha1\nkind: Hardening\nmetadata: {name: h}\nspec: {identity: {uid: 1000, gid: 1000}}\n"))
	f.Add([]byte("- a: b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		const path = "hardening.yaml"
		// LoadHardeningDocument without the file: single, then Hardening.
		node, err := single(data, path)
		var h *v1alpha1.Hardening
		if err == nil {
			h, err = Hardening(node, path)
		}
		if err != nil {
			if l, ok := err.(field.List); ok {
				for _, e := range l {
					if e.Source != path {
						t.Fatalf("error without source: %q", e.Error())
					}
				}
			}
			return
		}
		if errs := h.Validate(); len(errs) > 0 {
			t.Fatalf("accepted a Hardening that fails validation: %v", errs)
		}
	})
}
