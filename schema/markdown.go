package schema

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Markdown renders a field reference of a JSON Schema document: one table row per
// field path with its type, constraints and description. docs/spec.md is generated
// from the Site schema with it, and a test keeps the two in step.
func Markdown(schemaJSON []byte, title string) (string, error) {
	var root map[string]any
	if err := json.Unmarshal(schemaJSON, &root); err != nil {
		return "", fmt.Errorf("schema: %w", err)
	}
	w := &mdWriter{root: root}
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", title)
	fmt.Fprintf(&b, "<!-- Generated from schema/site.schema.json by `go test ./schema -update`. Do not edit. -->\n\n")
	if d, ok := root["description"].(string); ok {
		b.WriteString(d + "\n\n")
	}
	b.WriteString("Editors that speak JSON Schema (VS Code with the YAML extension, IntelliJ) validate and complete a site file with this first line:\n\n")
	b.WriteString("```yaml\n# yaml-language-server: $schema=https://peruser.dev/schema/v1alpha1/site.schema.json\n```\n\n")
	b.WriteString("(or a relative path to `schema/site.schema.json` in a checkout).\n\n")
	b.WriteString("| field | type | description |\n|---|---|---|\n")
	w.walk(&b, "", root, 0)
	return b.String(), nil
}

type mdWriter struct{ root map[string]any }

func (w *mdWriter) resolve(s map[string]any) map[string]any {
	for i := 0; i < 10; i++ {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		name := strings.TrimPrefix(ref, "#/$defs/")
		defs, _ := w.root["$defs"].(map[string]any)
		next, ok := defs[name].(map[string]any)
		if !ok {
			return s
		}
		// A $ref with a description of its own keeps that description.
		merged := map[string]any{}
		for k, v := range next {
			merged[k] = v
		}
		if d, ok := s["description"]; ok {
			merged["description"] = d
		}
		s = merged
	}
	return s
}

func (w *mdWriter) walk(b *strings.Builder, path string, s map[string]any, depth int) {
	if depth > 12 {
		return
	}
	s = w.resolve(s)
	props, _ := s["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	sort.Strings(names)
	required := map[string]bool{}
	if req, ok := s["required"].([]any); ok {
		for _, r := range req {
			required[fmt.Sprint(r)] = true
		}
	}
	for _, n := range names {
		child, _ := props[n].(map[string]any)
		p := n
		if path != "" {
			p = path + "." + n
		}
		w.row(b, p, child, required[n], depth)
	}
}

func (w *mdWriter) row(b *strings.Builder, path string, raw map[string]any, required bool, depth int) {
	s := w.resolve(raw)
	typ := w.typeOf(s)
	desc, _ := s["description"].(string)
	if required {
		desc = strings.TrimSpace("**Required.** " + desc)
	}
	if s["not"] != nil && s["errorMessage"] != nil {
		typ = "never set"
		desc = fmt.Sprint(s["errorMessage"])
	}
	fmt.Fprintf(b, "| `%s` | %s | %s |\n", path, typ, strings.ReplaceAll(desc, "|", "\\|"))
	switch {
	case s["properties"] != nil:
		w.walk(b, path, s, depth+1)
	case s["items"] != nil:
		if items, ok := s["items"].(map[string]any); ok {
			items = w.resolve(items)
			if items["properties"] != nil {
				w.walk(b, path+"[]", items, depth+1)
			}
		}
	case s["additionalProperties"] != nil:
		if ap, ok := s["additionalProperties"].(map[string]any); ok {
			ap = w.resolve(ap)
			if ap["properties"] != nil {
				w.walk(b, path+".<name>", ap, depth+1)
			}
		}
	}
}

func (w *mdWriter) typeOf(s map[string]any) string {
	if c, ok := s["const"]; ok {
		return fmt.Sprintf("`%v`", c)
	}
	if e, ok := s["enum"].([]any); ok {
		vals := make([]string, len(e))
		for i, v := range e {
			vals[i] = fmt.Sprintf("`%q`", v)
		}
		return "one of " + strings.Join(vals, ", ")
	}
	if alts, ok := s["anyOf"].([]any); ok {
		var parts []string
		for _, a := range alts {
			if m, ok := a.(map[string]any); ok {
				parts = append(parts, w.typeOf(w.resolve(m)))
			}
		}
		return strings.Join(parts, " or ")
	}
	t := fmt.Sprint(s["type"])
	if s["type"] == nil {
		t = "any"
	}
	switch t {
	case "array":
		if items, ok := s["items"].(map[string]any); ok {
			return "list of " + w.typeOf(w.resolve(items))
		}
	case "object":
		if ap, ok := s["additionalProperties"].(map[string]any); ok && s["properties"] == nil {
			return "map of " + w.typeOf(w.resolve(ap))
		}
	case "string":
		if p, ok := s["pattern"].(string); ok {
			if name, ok := patternNames[p]; ok {
				return "string: " + name
			}
		}
	case "integer", "number":
		if m, ok := s["minimum"]; ok {
			return fmt.Sprintf("%s ≥ %v", t, m)
		}
	}
	return t
}
