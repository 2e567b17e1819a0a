package schema

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peruser-dev/peruser/field"
)

// TestPatternNamesAreSchemaPatterns keeps patternNames, keyed by the very regular
// expressions of the schemas, from drifting: each key must be a pattern that one of the
// embedded schemas states, else its wording is never used and the schema's changed
// pattern is shown raw.
func TestPatternNamesAreSchemaPatterns(t *testing.T) {
	inSchemas := map[string]bool{}
	for _, d := range documents {
		var root any
		require.NoError(t, json.Unmarshal(d.data, &root))
		collectPatterns(root, inSchemas)
	}
	for p := range patternNames {
		assert.True(t, inSchemas[p], "patternNames key %s is no pattern of the embedded schemas", p)
	}
}

func collectPatterns(v any, into map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			if s, ok := c.(string); ok && k == "pattern" {
				into[s] = true
			}
			collectPatterns(c, into)
		}
	case []any:
		for _, c := range v {
			collectPatterns(c, into)
		}
	}
}

// TestSharedDuration checks that both kinds word a bad duration the same, although
// only the Site schema states the rule (the Hardening schema refers to it).
func TestSharedDuration(t *testing.T) {
	site, err := Site()
	require.NoError(t, err)
	hardening, err := Hardening()
	require.NoError(t, err)
	want := `"8 hours" is not a Go duration (such as 30m, 1h, 168h)`
	assert.Equal(t, field.List{{Path: "spec.lifetime", Message: want}},
		hardening.Validate(decode(t, `{"apiVersion": "peruser.dev/v1alpha1", "kind": "Hardening", "metadata": {"name": "h"},
			"spec": {"identity": {"uid": 1000, "gid": 1000}, "lifetime": "8 hours"}}`)))
	assert.Equal(t, field.List{{Path: "spec.directory.timeout", Message: want}},
		site.Validate(decode(t, `{"apiVersion": "peruser.dev/v1alpha1", "kind": "Site", "metadata": {"name": "s"},
			"spec": {"directory": {"url": "ldap://h", "users": {"baseDN": "o=x"}, "groups": {"baseDN": "o=x"}, "timeout": "8 hours"}}}`)))
}

// decode reads a JSON document the way spec hands one to Validate.
func decode(t *testing.T, doc string) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
	require.NoError(t, err)
	return v
}
