// Package fnconfig finds the file a KRM function's functionConfig came from, so that
// errors in function mode name the user's own file and line rather than a line of the
// ResourceList an orchestrator piped in (kustomize sorts the keys, so those lines are
// meaningless to the user).
//
// Where the file comes from (checked in the orchestrators' sources):
//   - a path annotation on the functionConfig itself (internal.config.kubernetes.io/path,
//     or the legacy config.kubernetes.io/path), when an orchestrator sets one;
//   - kpt reads a functionConfig file (--fn-config, a Kptfile's configPath) without
//     annotations, but the same document is an item of the package, and kpt annotates
//     items with their path relative to the package;
//   - kustomize 5 annotates a generator's or transformer's config with nothing but
//     local-config, so the file is looked up among the kustomization's generators: and
//     transformers: in the working directory (kustomize runs exec functions there).
//
// A file found is re-read and searched for a document that decodes to the same value
// as the functionConfig; only then are its lines used. Otherwise the caller reports the
// field path only: never a line that might be wrong.
package fnconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/internal/ynode"
)

// Origin is where a functionConfig came from.
type Origin struct {
	// Path is the file, as the orchestrator or kustomization names it; "" when unknown.
	Path string
	// Doc is the document as it stands in Path, for line numbers; nil when the file
	// could not be read or holds no document equal to the functionConfig.
	Doc *yaml.RNode
}

// Locate finds the origin of fc, given the ResourceList's items, reading files
// relative to dir (the function's working directory).
func Locate(fc *yaml.RNode, items []*yaml.RNode, dir string) Origin {
	if !ynode.Readable(fc) {
		return Origin{} // kyaml's getters would panic
	}
	want, err := comparable(fc)
	if err != nil {
		return Origin{}
	}
	candidates := pathsOf(fc)
	for _, it := range items {
		if sameIdentity(it, fc) {
			candidates = append(candidates, pathsOf(it)...)
		}
	}
	named := len(candidates) > 0
	if !named {
		candidates = kustomizationFiles(dir)
	}
	for _, p := range candidates {
		if doc := find(filepath.Join(dir, filepath.FromSlash(p)), want); doc != nil {
			return Origin{Path: p, Doc: doc}
		}
	}
	if named {
		return Origin{Path: candidates[0]}
	}
	return Origin{}
}

// ConfigAnnotation reports whether an annotation is orchestrator bookkeeping (reader
// paths and indexes, ids, local-config, the function declaration) rather than part of
// the user's document.
func ConfigAnnotation(k string) bool {
	return k == "config.kubernetes.io/local-config" || k == "config.kubernetes.io/function" ||
		strings.HasPrefix(k, "internal.config.kubernetes.io/") ||
		k == kioutil.LegacyPathAnnotation || k == kioutil.LegacyIndexAnnotation ||
		k == kioutil.LegacyIdAnnotation
}

// Strip removes the orchestrator's annotations from n (see ConfigAnnotation).
func Strip(n *yaml.RNode) {
	if !ynode.Readable(n) {
		return
	}
	a := n.GetAnnotations()
	for k := range a {
		if ConfigAnnotation(k) {
			delete(a, k)
		}
	}
	_ = n.SetAnnotations(a)
}

func pathsOf(n *yaml.RNode) []string {
	a := n.GetAnnotations()
	var out []string
	for _, k := range []string{kioutil.PathAnnotation, kioutil.LegacyPathAnnotation} {
		if p := a[k]; p != "" {
			out = append(out, p)
		}
	}
	return out
}

func sameIdentity(a, b *yaml.RNode) bool {
	if !ynode.Readable(a) || !ynode.Readable(b) {
		return false
	}
	return a.GetApiVersion() == b.GetApiVersion() && a.GetKind() == b.GetKind() && a.GetName() == b.GetName()
}

// kustomizationFiles lists the local files a kustomization in dir names as generators
// or transformers (inline configs and remote ones are skipped).
func kustomizationFiles(dir string) []string {
	for _, name := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		var k struct {
			Generators   []string `json:"generators"`
			Transformers []string `json:"transformers"`
		}
		if yaml.Unmarshal(b, &k) != nil {
			return nil
		}
		var out []string
		for _, p := range append(k.Generators, k.Transformers...) {
			if p != "" && !strings.Contains(p, "\n") && !strings.Contains(p, "://") {
				out = append(out, p)
			}
		}
		return out
	}
	return nil
}

// find returns the document of the YAML stream in file that equals want, or nil.
// It decodes the whole stream so that line numbers count from the top of the file.
func find(file string, want any) *yaml.RNode {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) || err != nil {
			return nil
		}
		doc := &n
		if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
			doc = doc.Content[0]
		}
		r := yaml.NewRNode(doc)
		if doc.Kind != yaml.MappingNode {
			continue
		}
		got, err := comparable(r.Copy())
		if err == nil && reflect.DeepEqual(got, want) {
			return r
		}
	}
}

// comparable is n's value without orchestrator annotations, decoded through JSON so
// that key order, quoting and styles do not matter.
func comparable(n *yaml.RNode) (any, error) {
	c := n.Copy()
	Strip(c)
	js, err := c.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var v any
	err = json.Unmarshal(js, &v)
	return v, err
}
