package schema

import (
	"encoding/json"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// A subschema may carry an "errorMessage" (the keyword ajv-errors uses): when that
// subschema fails, its message replaces the validator's generic one. The schema uses
// it for fields that must never be set, such as spec.directory.bindPassword, whose
// generic failure ("'not' failed") would not tell the user what to do instead.

var (
	rawOnce sync.Once
	raw     any
)

// customMessage returns the errorMessage of the subschema at e.SchemaURL, if any.
func customMessage(e *jsonschema.ValidationError) (string, bool) {
	_, frag, ok := strings.Cut(e.SchemaURL, "#")
	if !ok {
		return "", false
	}
	rawOnce.Do(func() { _ = json.Unmarshal(SiteJSON, &raw) })
	node := raw
	for _, tok := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
		if tok == "" {
			continue
		}
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		m, ok := node.(map[string]any)
		if !ok {
			return "", false
		}
		node = m[tok]
	}
	m, ok := node.(map[string]any)
	if !ok {
		return "", false
	}
	s, ok := m["errorMessage"].(string)
	return s, ok && s != ""
}
