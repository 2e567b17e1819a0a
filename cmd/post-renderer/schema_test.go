package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/internal/testenv"
)

func hardeningSchema(t *testing.T) (*jsonschema.Schema, map[string]any) {
	t.Helper()
	path := filepath.Join(testenv.RepoRoot(), "schema", "hardening.schema.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("hardening.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("hardening.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return s, m
}

func yamlToJSONValue(t *testing.T, y string) any {
	t.Helper()
	node, err := yaml.Parse(y)
	if err != nil {
		t.Fatal(err)
	}
	js, err := node.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestHardeningSchema: the JSON Schema accepts every Hardening the project ships and
// refuses what the Go validation refuses.
func TestHardeningSchema(t *testing.T) {
	s, _ := hardeningSchema(t)
	configs, _ := filepath.Glob(fixture("harden", "*", "config.yaml"))
	if len(configs) == 0 {
		t.Fatal("no fixture configs")
	}
	for _, p := range configs {
		if err := s.Validate(yamlToJSONValue(t, string(readFixture(t, strings.TrimPrefix(p, fixture()+"/"))))); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	head := "apiVersion: peruser.dev/v1alpha1\nkind: Hardening\nmetadata: {name: x}\nspec:\n"
	for name, spec := range map[string]string{
		"root":          "  identity: {uid: 0, gid: 1000}\n",
		"both":          "  identity: {uid: 1000, gid: 1000, site: s.yaml, user: u}\n",
		"site alone":    "  identity: {site: s.yaml}\n",
		"unknown field": "  identity: {uid: 1000, gid: 1000}\n  exception: {}\n",
		"system group":  "  identity: {uid: 1000, gid: 1000, supplementalGroups: [10]}\n",
		"bad lifetime":  "  identity: {uid: 1000, gid: 1000}\n  lifetime: 1d\n",
		"hostPath type": "  identity: {uid: 1000, gid: 1000}\n  exceptions: {volumeTypes: [hostPath]}\n",
	} {
		if err := s.Validate(yamlToJSONValue(t, head+spec)); err == nil {
			t.Errorf("%s: the schema accepts it", name)
		}
	}
}

// TestHardeningSchemaMatchesTypes keeps schema/hardening.schema.json and the Go types of
// api/v1alpha1 in step: every object in the schema lists exactly the type's JSON fields.
func TestHardeningSchemaMatchesTypes(t *testing.T) {
	_, m := hardeningSchema(t)
	defs := m["$defs"].(map[string]any)
	props := func(obj map[string]any) []string {
		if ref, ok := obj["$ref"].(string); ok {
			obj = defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
		}
		var out []string
		for k := range obj["properties"].(map[string]any) {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	child := func(obj map[string]any, path ...string) map[string]any {
		for _, p := range path {
			if ref, ok := obj["$ref"].(string); ok {
				obj = defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
			}
			if p == "[]" {
				obj = obj["items"].(map[string]any)
				continue
			}
			obj = obj["properties"].(map[string]any)[p].(map[string]any)
		}
		return obj
	}
	spec := child(m, "spec")
	for _, tc := range []struct {
		obj map[string]any
		typ any
	}{
		{m, v1alpha1.Hardening{}},
		{child(m, "metadata"), v1alpha1.ObjectMeta{}},
		{spec, v1alpha1.HardeningSpec{}},
		{child(spec, "identity"), v1alpha1.HardeningIdentity{}},
		{child(spec, "exceptions"), v1alpha1.HardeningExceptions{}},
		{child(spec, "registryRewrites", "[]"), v1alpha1.RegistryRewrite{}},
		{child(spec, "podTemplatePaths", "[]"), v1alpha1.PodTemplatePath{}},
	} {
		if got, want := props(tc.obj), jsonFields(reflect.TypeOf(tc.typ)); !slices.Equal(got, want) {
			t.Errorf("%T: schema properties %v, Go fields %v", tc.typ, got, want)
		}
	}
}

func jsonFields(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
