package postrender

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/schema"
)

// hardeningSchema is the schema the binary validates --config and the KRM config with.
func hardeningSchema(t *testing.T) *schema.Schema {
	t.Helper()
	s, err := schema.Hardening()
	if err != nil {
		t.Fatal(err)
	}
	return s
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
	s := hardeningSchema(t)
	configs, _ := filepath.Glob(fixture("harden", "*", "config.yaml"))
	if len(configs) == 0 {
		t.Fatal("no fixture configs")
	}
	for _, p := range configs {
		if err := s.Validate(yamlToJSONValue(t, string(readFixture(t, strings.TrimPrefix(p, fixture()+"/"))))); len(err) > 0 {
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
		if errs := s.Validate(yamlToJSONValue(t, head+spec)); len(errs) == 0 {
			t.Errorf("%s: the schema accepts it", name)
		}
	}
}

// The schema's fields are kept in step with the Go types by schema.TestSchemasMatchTypes.
