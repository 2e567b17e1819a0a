package fnconfig

import (
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	// Defines -update, so that `go test ./... -update` runs in every package.
	_ "github.com/peruser-dev/peruser/internal/golden"
)

const site = `apiVersion: peruser.dev/v1alpha1
kind: Site
metadata:
  name: s
spec:
  users:
  - {name: a, uid: 1000, gid: 1000}
`

func TestLocate(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("kustomization.yaml", "generators:\n- site.yaml\n")
	write("site.yaml", "# a comment\n---\n"+site)
	// The config as kustomize sends it: keys sorted, local-config added.
	fc := yaml.MustParse("apiVersion: peruser.dev/v1alpha1\nkind: Site\nmetadata:\n  annotations: {config.kubernetes.io/local-config: 'true'}\n  name: s\nspec:\n  users:\n  - {gid: 1000, name: a, uid: 1000}\n")

	o := Locate(fc, nil, dir)
	if o.Path != "site.yaml" || o.Doc == nil {
		t.Fatalf("kustomization lookup: %+v", o)
	}
	if line := o.Doc.YNode().Line; line != 3 {
		t.Errorf("the document starts on line %d of the file, want 3", line)
	}

	// A path annotation (kpt's package item) names the file.
	item := yaml.MustParse(site)
	_ = item.PipeE(yaml.SetAnnotation("internal.config.kubernetes.io/path", "site.yaml"))
	if o := Locate(fc, []*yaml.RNode{item}, dir); o.Path != "site.yaml" || o.Doc == nil {
		t.Fatalf("item lookup: %+v", o)
	}

	// The file on disk says something else: its path is kept, its lines are not used.
	write("site.yaml", site+"  - {name: b, uid: 1001, gid: 1001}\n")
	if o := Locate(fc, []*yaml.RNode{item}, dir); o.Path != "site.yaml" || o.Doc != nil {
		t.Fatalf("a different file must give no lines: %+v", o)
	}
	// Nothing names it and the kustomization's file differs: unknown.
	if o := Locate(fc, nil, dir); o.Path != "" || o.Doc != nil {
		t.Fatalf("unknown origin: %+v", o)
	}
	// Not a mapping: unknown, no panic.
	if o := Locate(yaml.MustParse("- a: b\n"), nil, dir); o.Path != "" {
		t.Fatalf("sequence: %+v", o)
	}
}
