package schema

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// A subschema may carry an "errorMessage" (the keyword ajv-errors uses): when that
// subschema fails, its message replaces the validator's generic one. The schema uses
// it for fields that must never be set, such as spec.directory.bindPassword, whose
// generic failure ("'not' failed") would not tell the user what to do instead.

// customMessage returns the errorMessage of the subschema at e.SchemaURL, if any.
func (s *Schema) customMessage(e *jsonschema.ValidationError) (string, bool) {
	m, ok := s.nodeAt(e.SchemaURL)
	if !ok {
		return "", false
	}
	msg, ok := m["errorMessage"].(string)
	return msg, ok && msg != ""
}

// accepted lists the properties the object schema at schemaURL defines, sorted, so that
// an unknown field is reported with what is accepted in its place (and a near miss such
// as "networkpolicy" gets a "did you mean").
func (s *Schema) accepted(schemaURL string) []string {
	m, ok := s.nodeAt(schemaURL)
	if !ok {
		return nil
	}
	props, _ := m["properties"].(map[string]any)
	return slices.Sorted(maps.Keys(props))
}

// nodeAt finds the subschema a validator location (URL#/json/pointer) points to, in
// the document of that URL (a $ref may lead into a sibling schema).
func (s *Schema) nodeAt(schemaURL string) (map[string]any, bool) {
	url, frag, ok := strings.Cut(schemaURL, "#")
	if !ok {
		return nil, false
	}
	node, ok := s.raw[url]
	if !ok {
		return nil, false
	}
	for _, tok := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
		if tok == "" {
			continue
		}
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		m, ok := node.(map[string]any)
		if !ok {
			return nil, false
		}
		node = m[tok]
	}
	m, ok := node.(map[string]any)
	return m, ok
}

// unknownField words an unknown field: a case-insensitive near miss is named, else
// the accepted fields are listed.
func unknownField(name string, accepted []string) string {
	for _, a := range accepted {
		if strings.EqualFold(a, name) || strings.EqualFold(strings.ReplaceAll(a, "_", ""), strings.ReplaceAll(name, "_", "")) {
			return fmt.Sprintf("unknown field; did you mean %q?", a)
		}
	}
	if len(accepted) == 0 {
		return "unknown field"
	}
	return fmt.Sprintf("unknown field (accepted here: %s)", strings.Join(accepted, ", "))
}
