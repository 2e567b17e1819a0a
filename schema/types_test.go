package schema_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/schema"
)

// TestSchemasMatchTypes keeps each embedded schema and the Go type it is decoded into
// in step: at every object, the schema lists exactly the type's JSON fields (a field
// only the schema knows fails decoding; one only the type knows can never be set).
// Properties the schema defines only to refuse them with a message ("not" plus
// errorMessage, such as spec.directory.bindPassword) have no Go field on purpose.
func TestSchemasMatchTypes(t *testing.T) {
	for _, tc := range []struct {
		doc        []byte
		typ        reflect.Type
		minObjects int
	}{
		{schema.SiteJSON, reflect.TypeOf(v1alpha1.Site{}), 5},
		{schema.HardeningJSON, reflect.TypeOf(v1alpha1.Hardening{}), 5},
		{schema.SiteShardJSON, reflect.TypeOf(v1alpha1.SiteShard{}), 3},
	} {
		var root map[string]any
		if err := json.Unmarshal(tc.doc, &root); err != nil {
			t.Fatal(err)
		}
		w := walker{t: t, defs: mapOf(root["$defs"])}
		w.compare(tc.typ.Name(), root, tc.typ)
		if w.objects < tc.minObjects {
			t.Errorf("%s: only %d objects compared", tc.typ.Name(), w.objects)
		}
	}
}

type walker struct {
	t       *testing.T
	defs    map[string]any
	objects int
}

func (w *walker) resolve(s map[string]any) map[string]any {
	for {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		s = w.defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
	}
}

var unmarshaler = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()

func (w *walker) compare(path string, s map[string]any, typ reflect.Type) {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if reflect.PointerTo(typ).Implements(unmarshaler) {
		return // decoded by its own rules (Quantity, ServicePort)
	}
	s = w.resolve(s)
	switch typ.Kind() {
	case reflect.Struct:
		props, _ := s["properties"].(map[string]any)
		fields := map[string]reflect.Type{}
		collectFields(typ, fields)
		var inSchema []string
		for name, p := range props {
			if pm, _ := p.(map[string]any); pm["not"] != nil && pm["errorMessage"] != nil {
				continue
			}
			inSchema = append(inSchema, name)
		}
		slices.Sort(inSchema)
		inGo := make([]string, 0, len(fields))
		for name := range fields {
			inGo = append(inGo, name)
		}
		slices.Sort(inGo)
		if !slices.Equal(inSchema, inGo) {
			w.t.Errorf("%s: schema properties %v, Go fields %v", path, inSchema, inGo)
			return
		}
		w.objects++
		for _, name := range inGo {
			w.compare(path+"."+name, props[name].(map[string]any), fields[name])
		}
	case reflect.Slice:
		if items, ok := s["items"].(map[string]any); ok {
			w.compare(path+"[]", items, typ.Elem())
		}
	case reflect.Map:
		if ap, ok := s["additionalProperties"].(map[string]any); ok {
			w.compare(path+"[*]", ap, typ.Elem())
		}
	}
}

// collectFields maps JSON names to field types, flattening embedded structs as
// encoding/json does.
func collectFields(typ reflect.Type, into map[string]reflect.Type) {
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			collectFields(f.Type, into)
			continue
		}
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		into[name] = f.Type
	}
}

func mapOf(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
