// Package schema embeds the JSON Schemas of peruser's kinds (site.schema.json for the
// Site, hardening.schema.json for the post-renderer's Hardening, siteshard.schema.json for one
// part of a sharded site; draft 2020-12) and
// validates decoded documents against them, turning the validator's output into field
// errors with paths such as spec.users[2].uid.
package schema

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/peruser-dev/peruser/field"
)

// SiteJSON is the Site schema document, for editors and docs.
//
//go:embed site.schema.json
var SiteJSON []byte

// HardeningJSON is the Hardening schema document.
//
//go:embed hardening.schema.json
var HardeningJSON []byte

// SiteShardJSON is the SiteShard schema document.
//
//go:embed siteshard.schema.json
var SiteShardJSON []byte

var printer = message.NewPrinter(language.English)

const (
	siteURL      = "https://peruser.dev/schema/v1alpha1/site.schema.json"
	hardeningURL = "https://peruser.dev/schema/v1alpha1/hardening.schema.json"
	siteShardURL = "https://peruser.dev/schema/v1alpha1/siteshard.schema.json"
)

// documents are the embedded schemas by $id. A schema may $ref another by its file
// name (hardening.schema.json takes the duration rule from site.schema.json), so that
// a rule is written once. Each $id ends in its file name, so such a reference means the
// same sibling however it is resolved: against the $id (the JSON Schema rule, and this
// package, which registers every document), or against the file an editor loaded (what
// yaml-language-server does for a schema in a checkout).
var documents = []struct {
	url  string
	data []byte
}{
	{siteURL, SiteJSON},
	{hardeningURL, HardeningJSON},
	{siteShardURL, SiteShardJSON},
}

// Schema is a compiled schema of one kind. It is read-only once compiled, so one value
// serves every validation, concurrent ones included.
type Schema struct {
	schema *jsonschema.Schema
	// raw are the schema documents by URL, where errorMessage keywords and the
	// properties of an object are looked up.
	raw map[string]any
}

// The compiled schemas. Each is compiled from embedded bytes the first time it is
// asked for and is immutable after, like a package-level regexp: a process that checks
// many documents (krm-fn diff reads two Sites, a test package hundreds) pays for the
// compile (milliseconds) once instead of once per document.
var (
	site      = sync.OnceValues(func() (*Schema, error) { return compile(siteURL) })
	hardening = sync.OnceValues(func() (*Schema, error) { return compile(hardeningURL) })
	siteShard = sync.OnceValues(func() (*Schema, error) { return compile(siteShardURL) })
)

// Site is the embedded Site schema, compiled.
func Site() (*Schema, error) { return site() }

// Hardening is the embedded Hardening schema, compiled.
func Hardening() (*Schema, error) { return hardening() }

// SiteShard is the embedded SiteShard schema, compiled.
func SiteShard() (*Schema, error) { return siteShard() }

// compile compiles the schema at url with every embedded document registered, so that
// a $ref to a sibling schema resolves without a network.
func compile(url string) (*Schema, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	raw := make(map[string]any, len(documents))
	for _, d := range documents {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(d.data))
		if err != nil {
			return nil, fmt.Errorf("embedded schema %s: %w", d.url, err)
		}
		if err := c.AddResource(d.url, doc); err != nil {
			return nil, fmt.Errorf("embedded schema %s: %w", d.url, err)
		}
		raw[d.url] = doc
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("embedded schema %s: %w", url, err)
	}
	return &Schema{schema: s, raw: raw}, nil
}

// Validate checks doc (JSON-decoded: map[string]any, []any, json.Number, string, bool,
// nil) and returns one field error per leaf problem.
func (s *Schema) Validate(doc any) field.List {
	err := s.schema.Validate(doc)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return field.List{{Message: err.Error()}}
	}
	var out field.List
	seen := map[string]bool{}
	s.collect(ve, &out, seen)
	return out.Sorted()
}

// collect walks the error tree down to its leaves. For oneOf/anyOf failures the
// branches' own errors are usually noise ("must be a number" for a string branch),
// so the failure is reported once, at the oneOf/anyOf, in plain words.
func (s *Schema) collect(e *jsonschema.ValidationError, out *field.List, seen map[string]bool) {
	switch e.ErrorKind.(type) {
	case *kind.AnyOf, *kind.OneOf:
		s.add(e, out, seen)
		return
	}
	if len(e.Causes) == 0 {
		s.add(e, out, seen)
		return
	}
	for _, c := range e.Causes {
		s.collect(c, out, seen)
	}
}

func (s *Schema) add(e *jsonschema.ValidationError, out *field.List, seen map[string]bool) {
	path, msgs := pathOf(e.InstanceLocation), s.describe(e)
	for _, m := range msgs {
		p := path
		if m.child != "" {
			p = p.Key(m.child)
		}
		key := string(p) + "\x00" + m.text
		if seen[key] {
			continue
		}
		seen[key] = true
		*out = append(*out, field.Error{Path: string(p), Message: m.text})
	}
}

// pathOf turns a JSON pointer's tokens into a field path: ["spec","users","2","uid"]
// → spec.users[2].uid.
func pathOf(tokens []string) field.Path {
	var p field.Path
	for _, t := range tokens {
		if n, err := strconv.Atoi(t); err == nil && n >= 0 {
			p = p.Index(n)
			continue
		}
		p = p.Key(t)
	}
	return p
}

type msg struct{ child, text string }

// describe words the common failures the way an administrator reads them.
func (s *Schema) describe(e *jsonschema.ValidationError) []msg {
	switch e.ErrorKind.(type) {
	case *kind.OneOf, *kind.AnyOf, *kind.Not, *kind.FalseSchema:
		// Only combinators take the schema's own wording: a type or unknown-field error
		// at the same place still says what it is.
		if text, ok := s.customMessage(e); ok {
			return []msg{{text: text}}
		}
	}
	switch k := e.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		props := append([]string(nil), k.Properties...)
		sort.Strings(props)
		accepted := s.accepted(e.SchemaURL)
		out := make([]msg, len(props))
		for i, p := range props {
			out[i] = msg{child: p, text: unknownField(p, accepted)}
		}
		return out
	case *kind.Required:
		out := make([]msg, len(k.Missing))
		for i, p := range k.Missing {
			out[i] = msg{child: p, text: "required field is missing"}
		}
		return out
	case *kind.Type:
		return []msg{{text: fmt.Sprintf("must be %s, got %s", strings.Join(k.Want, " or "), k.Got)}}
	case *kind.Minimum:
		return []msg{{text: fmt.Sprintf("must be ≥ %s, got %s", ratString(k.Want), ratString(k.Got))}}
	case *kind.Maximum:
		return []msg{{text: fmt.Sprintf("must be ≤ %s, got %s", ratString(k.Want), ratString(k.Got))}}
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = strconv.Quote(fmt.Sprint(w))
		}
		return []msg{{text: fmt.Sprintf("must be one of %s, got %q", strings.Join(want, ", "), fmt.Sprint(k.Got))}}
	case *kind.Const:
		return []msg{{text: fmt.Sprintf("must be %q, got %q", fmt.Sprint(k.Want), fmt.Sprint(k.Got))}}
	case *kind.Pattern:
		if name, ok := patternNames[k.Want]; ok {
			return []msg{{text: fmt.Sprintf("%q is not %s", k.Got, name)}}
		}
		return []msg{{text: fmt.Sprintf("%q does not match %s", k.Got, k.Want)}}
	case *kind.MinLength:
		if k.Want == 1 {
			return []msg{{text: "must not be empty"}}
		}
		return []msg{{text: fmt.Sprintf("must be at least %d characters", k.Want)}}
	case *kind.MaxLength:
		return []msg{{text: fmt.Sprintf("must be at most %d characters, got %d", k.Want, k.Got)}}
	case *kind.OneOf:
		if len(k.Subschemas) > 1 {
			return []msg{{text: "sets more than one of the mutually exclusive fields"}}
		}
		return []msg{{text: s.alternatives(e)}}
	case *kind.AnyOf:
		return []msg{{text: s.alternatives(e)}}
	}
	return []msg{{text: e.ErrorKind.LocalizedString(printer)}}
}

// patternNames words the schema's shared patterns, so that a user reads "is not a
// Kubernetes quantity" instead of a regular expression. The keys are the schemas'
// patterns, character for character; TestPatternNamesAreSchemaPatterns fails when a
// schema's pattern changes without its key.
var patternNames = map[string]string{
	`^[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+|[KMGTPE]i|[mkMGTPE])?$`: "a Kubernetes quantity (such as 500m, 4, 1.5, 8Gi)",
	`^[0-9a-fA-F:.]+/[0-9]{1,3}$`:                                       "a CIDR (such as 10.20.0.0/16)",
	`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`:                                   "a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit)",
	`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`: "a DNS-1123 name (lowercase letters, digits, '-' and '.')",
	`^([a-z0-9][-a-z0-9]*)?$`:                                           "a namespace prefix (lowercase letters, digits and '-', starting with a letter or digit)",
	`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`:                         "a Go duration (such as 30m, 1h, 168h)",
	`^/.`:                      "an absolute directory other than / (such as /users/)",
	`^[A-Za-z_][A-Za-z0-9_]*$`: "an environment variable name",
}

// alternatives explains a failed oneOf/anyOf. A branch that failed only because the
// value has another type (a number branch for a string value) is noise and is left
// out; what remains are the reasons the fitting branch failed.
func (s *Schema) alternatives(e *jsonschema.ValidationError) string {
	var fitting, typeOnly []string
	for _, c := range e.Causes {
		var leaf field.List
		s.collect(c, &leaf, map[string]bool{})
		onlyType := len(c.Causes) == 0
		if _, ok := c.ErrorKind.(*kind.Type); ok && onlyType {
			for _, l := range leaf {
				typeOnly = append(typeOnly, l.Message)
			}
			continue
		}
		base := string(pathOf(e.InstanceLocation))
		for _, l := range leaf {
			rel := strings.TrimPrefix(strings.TrimPrefix(l.Path, base), ".")
			fitting = append(fitting, strings.TrimSpace(rel+" "+l.Message))
		}
	}
	if len(fitting) == 0 {
		fitting = typeOnly
	}
	sort.Strings(fitting)
	return strings.Join(slices.Compact(fitting), "; ")
}

func ratString(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	return r.FloatString(3)
}
