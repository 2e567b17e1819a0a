package schema_test

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/identity"
	"github.com/peruser-dev/peruser/schema"
	"github.com/peruser-dev/peruser/shard"
)

// docs are the embedded schemas by file name, the way one $refs another.
var docs = map[string][]byte{
	"site.schema.json":      schema.SiteJSON,
	"hardening.schema.json": schema.HardeningJSON,
	"siteshard.schema.json": schema.SiteShardJSON,
}

// TestSchemasMatchTypes keeps each embedded schema and the Go type it is decoded into
// in step: at every object, the schema lists exactly the type's JSON fields (a field
// only the schema knows fails decoding; one only the type knows can never be set), and
// every bound the schema puts on an integer fits the Go field (a maximum beyond it
// would let through a value that fails decoding, or wraps). Properties the schema
// defines only to refuse them with a message ("not" plus errorMessage, such as
// spec.directory.bindPassword) have no Go field on purpose. Then the bounds Go
// enforces (goBounds) are checked against the ones the walk found.
func TestSchemasMatchTypes(t *testing.T) {
	found := walkAll(t)
	t.Run("bounds", func(t *testing.T) { checkGoBounds(t, found) })
}

// goBounds are the bounds Go code enforces, or that the Kubernetes API imposes, on a
// value the schema also bounds: the schema must state exactly the same ones, so that an
// editor refuses what a render (or the apiserver) would refuse, and nothing more.
// accepts is the Go rule for an integer: the schema's minimum and maximum must be its
// edges (accepted, and the next value refused); a bound the schema leaves out must be
// one Go does not have either. acceptsLen is the Go rule for a string's length: the
// schema's maxLength must be its edge.
var goBounds = []struct {
	path       string
	accepts    func(int64) bool
	acceptsLen func(int) bool
}{
	{path: "Site.spec.users[].uid", accepts: validUID},
	{path: "Site.spec.users[].gid", accepts: validGID},
	{path: "Site.spec.users[].groups[].gid", accepts: validGID},
	{path: "Hardening.spec.identity.uid", accepts: validUID},
	{path: "Hardening.spec.identity.gid", accepts: validGID},
	{path: "Hardening.spec.identity.supplementalGroups[]", accepts: func(v int64) bool {
		return validGID(v) && v >= v1alpha1.MinSupplementalGID
	}},
	{path: "Site.spec.sharding.shards", accepts: between(1, shard.MaxShards)},
	{path: "SiteShard.spec.shards", accepts: between(1, shard.MaxShards)},
	{path: "Site.spec.ingress.backend.port",
		accepts:    func(v int64) bool { return v <= math.MaxInt32 && len(validation.IsValidPortNum(int(v))) == 0 },
		acceptsLen: func(n int) bool { return len(validation.IsValidPortName(strings.Repeat("a", n))) == 0 }},
	{path: "Site.spec.directory.maxRemovals", accepts: func(v int64) bool {
		var c v1alpha1.CountOrPercent
		return json.Unmarshal([]byte(fmt.Sprint(v)), &c) == nil
	}},
	// The schema's $defs/dnsLabel and $defs/dnsSubdomain, through a field of each.
	{path: "Site.spec.mounts[].name", acceptsLen: func(n int) bool { return len(validation.IsDNS1123Label(strings.Repeat("a", n))) == 0 }},
	{path: "Site.spec.rbac.userClusterRole", acceptsLen: func(n int) bool { return len(validation.IsDNS1123Subdomain(strings.Repeat("a", n))) == 0 }},
}

func validUID(v int64) bool { return identity.CheckUID(v) == "" }
func validGID(v int64) bool { return identity.CheckGID(v) == "" }

func between(lo, hi int64) func(int64) bool {
	return func(v int64) bool { return v >= lo && v <= hi }
}

// far stands for "no bound": a value beyond any the schema states, which Go must
// accept where the schema states none.
const far = int64(1) << 40

func checkGoBounds(t *testing.T, found map[string]bounds) {
	for _, gb := range goBounds {
		b, ok := found[gb.path]
		if !ok {
			t.Errorf("%s: not in any schema (renamed?)", gb.path)
			continue
		}
		if gb.accepts != nil {
			checkEdge(t, gb.path, "minimum", b.min, -far, -1, gb.accepts)
			checkEdge(t, gb.path, "maximum", b.max, far, 1, gb.accepts)
		}
		if gb.acceptsLen != nil {
			switch {
			case b.maxLength == nil:
				t.Errorf("%s: the schema states no maxLength, Go refuses from %d characters", gb.path, firstRefused(gb.acceptsLen))
			case !gb.acceptsLen(int(*b.maxLength)) || gb.acceptsLen(int(*b.maxLength)+1):
				t.Errorf("%s: schema maxLength %d, Go refuses from %d characters", gb.path, *b.maxLength, firstRefused(gb.acceptsLen))
			}
		}
	}
}

// checkEdge checks one side of an integer range: the schema's bound (nil: none) is
// accepted by Go and the value one step beyond it is not; without a bound, Go accepts
// a far value.
func checkEdge(t *testing.T, path, name string, bound *int64, farValue, step int64, accepts func(int64) bool) {
	t.Helper()
	if bound == nil {
		if !accepts(farValue) {
			t.Errorf("%s: the schema states no %s, but Go refuses %d", path, name, farValue)
		}
		return
	}
	if !accepts(*bound) {
		t.Errorf("%s: schema %s %d, but Go refuses %d", path, name, *bound, *bound)
	}
	if accepts(*bound + step) {
		t.Errorf("%s: schema %s %d, but Go accepts %d too", path, name, *bound, *bound+step)
	}
}

// firstRefused is the shortest non-empty length acceptsLen refuses.
func firstRefused(acceptsLen func(int) bool) int {
	n := 1
	for n < 1<<16 && acceptsLen(n) {
		n++
	}
	return n
}

// walkAll compares every schema with its type and returns the bounds found at each
// leaf, by path (Site.spec.users[].uid).
func walkAll(t *testing.T) map[string]bounds {
	t.Helper()
	roots := map[string]map[string]any{}
	for name, doc := range docs {
		var root map[string]any
		if err := json.Unmarshal(doc, &root); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		roots[name] = root
	}
	w := walker{t: t, roots: roots, bounds: map[string]bounds{}}
	for _, tc := range []struct {
		file       string
		typ        reflect.Type
		minObjects int
	}{
		{"site.schema.json", reflect.TypeOf(v1alpha1.Site{}), 5},
		{"hardening.schema.json", reflect.TypeOf(v1alpha1.Hardening{}), 5},
		{"siteshard.schema.json", reflect.TypeOf(v1alpha1.SiteShard{}), 3},
	} {
		before := w.objects
		w.compare(tc.typ.Name(), tc.file, roots[tc.file], tc.typ)
		if n := w.objects - before; n < tc.minObjects {
			t.Errorf("%s: only %d objects compared", tc.typ.Name(), n)
		}
	}
	return w.bounds
}

// bounds are the numeric and length bounds of one schema node, its anyOf and oneOf
// branches included (a port is an integer 1…65535 or a name of at most 15 characters).
type bounds struct{ min, max, maxLength *int64 }

type walker struct {
	t       *testing.T
	roots   map[string]map[string]any
	bounds  map[string]bounds
	objects int
}

// resolve follows $refs, within a file (#/$defs/x) or to a sibling
// (site.schema.json#/$defs/duration), and returns the node and the file it is in.
func (w *walker) resolve(file string, s map[string]any) (string, map[string]any) {
	for {
		ref, ok := s["$ref"].(string)
		if !ok {
			return file, s
		}
		target, pointer, _ := strings.Cut(ref, "#")
		if target != "" {
			file = target
		}
		var node any = w.roots[file]
		for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
			if tok != "" {
				node = mapOf(node)[tok]
			}
		}
		next, ok := node.(map[string]any)
		if !ok {
			w.t.Fatalf("%s: $ref %q leads nowhere", file, ref)
		}
		s = next
	}
}

// boundsOf collects the bounds of s and of its anyOf and oneOf branches.
func (w *walker) boundsOf(file string, s map[string]any) bounds {
	file, s = w.resolve(file, s)
	var b bounds
	num := func(key string) *int64 {
		f, ok := s[key].(float64)
		if !ok {
			return nil
		}
		v := int64(f)
		return &v
	}
	b.min, b.max, b.maxLength = num("minimum"), num("maximum"), num("maxLength")
	for _, key := range []string{"anyOf", "oneOf"} {
		branches, _ := s[key].([]any)
		for _, br := range branches {
			bb := w.boundsOf(file, mapOf(br))
			b.min, b.max, b.maxLength = first(b.min, bb.min), first(b.max, bb.max), first(b.maxLength, bb.maxLength)
		}
	}
	return b
}

func first(a, b *int64) *int64 {
	if a != nil {
		return a
	}
	return b
}

var unmarshaler = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()

func (w *walker) compare(path, file string, s map[string]any, typ reflect.Type) {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	file, s = w.resolve(file, s)
	b := w.boundsOf(file, s)
	w.bounds[path] = b
	if reflect.PointerTo(typ).Implements(unmarshaler) {
		return // decoded by its own rules (Quantity, ServicePort)
	}
	switch typ.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		lo, hi := int64(-1)<<(typ.Bits()-1), int64(1)<<(typ.Bits()-1)-1
		w.fits(path, b, lo, hi)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if b.min == nil || *b.min < 0 {
			w.t.Errorf("%s: the schema allows negative values for a %s", path, typ)
		}
		w.fits(path, b, 0, math.MaxInt64)
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
			w.compare(path+"."+name, file, props[name].(map[string]any), fields[name])
		}
	case reflect.Slice:
		if items, ok := s["items"].(map[string]any); ok {
			w.compare(path+"[]", file, items, typ.Elem())
		}
	case reflect.Map:
		if ap, ok := s["additionalProperties"].(map[string]any); ok {
			w.compare(path+"[*]", file, ap, typ.Elem())
		}
	}
}

// fits checks that the schema's bounds of an integer field lie within lo…hi, the
// range of its Go type.
func (w *walker) fits(path string, b bounds, lo, hi int64) {
	if b.min != nil && (*b.min < lo || *b.min > hi) {
		w.t.Errorf("%s: schema minimum %d is outside the Go type's range %d…%d", path, *b.min, lo, hi)
	}
	if b.max != nil && (*b.max < lo || *b.max > hi) {
		w.t.Errorf("%s: schema maximum %d is outside the Go type's range %d…%d", path, *b.max, lo, hi)
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
