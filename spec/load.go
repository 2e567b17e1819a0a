package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/schema"
)

// Document is a loaded Site with what later stages need to report errors well.
type Document struct {
	Site *v1alpha1.Site
	// Source is the file (or other origin) the Site came from.
	Source string
	// Line maps a field path to its line in Source (0 when unknown).
	Line func(path string) int
}

// Errors attaches the document's source and lines to field errors found after loading
// (by resolution or generation), so that they point at the line at fault too.
func (d *Document) Errors(err error) error {
	var l field.List
	if errors.As(err, &l) {
		return l.WithSource(d.Source, d.Line).Sorted()
	}
	return fmt.Errorf("%s: %w", d.Source, err)
}

// LoadDocument reads and checks the Site in the file at path, keeping the source and
// line index for later error reports. Errors name the file and line.
func LoadDocument(path string) (*Document, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading site: %w", err)
	}
	return ParseDocument(data, path)
}

// Parse checks the YAML document data, which came from source (a file name, or a
// description such as "functionConfig"), and returns the defaulted Site.
func Parse(data []byte, source string) (*v1alpha1.Site, error) {
	d, err := ParseDocument(data, source)
	if err != nil {
		return nil, err
	}
	return d.Site, nil
}

// ParseDocument is Parse, keeping the source and line index.
func ParseDocument(data []byte, source string) (*Document, error) {
	node, err := single(data, source)
	if err != nil {
		return nil, err
	}
	return NodeDocument(node, source)
}

// single parses data, which must hold exactly one YAML document.
func single(data []byte, source string) (*yaml.RNode, error) {
	nodes, err := (&kio.ByteReader{Reader: bytes.NewReader(data), OmitReaderAnnotations: true}).Read()
	if err != nil {
		return nil, field.List{{Source: source, Message: fmt.Sprintf("not valid YAML: %v", err)}}
	}
	switch len(nodes) {
	case 0:
		return nil, field.List{{Source: source, Message: "no document found"}}
	case 1:
		return nodes[0], nil
	}
	return nil, field.List{{Source: source, Message: fmt.Sprintf("holds %d documents; the file must hold exactly one", len(nodes))}}
}

// NodeDocument checks an already parsed Site document, keeping the source and line
// index.
func NodeDocument(node *yaml.RNode, source string) (*Document, error) {
	return NodeDocumentAt(node, source, node)
}

// NodeDocumentAt is NodeDocument for a node that is a copy of the document in source,
// such as a KRM functionConfig (whose keys an orchestrator may have reordered): lines
// are looked up in at, the document as it stands in source, or left out when at is
// nil — an error then names the field path only, never a misleading line.
func NodeDocumentAt(node *yaml.RNode, source string, at *yaml.RNode) (*Document, error) {
	site, lines, err := check(node, source, linesOf(at), v1alpha1.SiteKind, schema.Site, func(s *v1alpha1.Site) field.List {
		s.Default()
		return s.Validate()
	})
	if err != nil {
		return nil, err
	}
	return &Document{Site: site, Source: source, Line: lines}, nil
}

// Hardening checks a Hardening document (the post-renderer's --config file or its KRM
// function config) the same way as a Site: schema, strict decode, Validate.
func Hardening(node *yaml.RNode, source string) (*v1alpha1.Hardening, error) {
	return HardeningAt(node, source, node)
}

// HardeningAt is Hardening with lines looked up in at (see NodeDocumentAt).
func HardeningAt(node *yaml.RNode, source string, at *yaml.RNode) (*v1alpha1.Hardening, error) {
	h, _, err := check(node, source, linesOf(at), v1alpha1.HardeningKind, schema.Hardening, (*v1alpha1.Hardening).Validate)
	return h, err
}

// Lines maps a field path to its line in the document at (see NodeDocumentAt), for
// errors found after loading; without a document, every line is unknown (0).
func Lines(at *yaml.RNode) func(string) int { return linesOf(at) }

// linesOf is the line index of at; without a document, every line is unknown (0).
func linesOf(at *yaml.RNode) func(string) int {
	if at == nil {
		return func(string) int { return 0 }
	}
	return lineIndex(at.YNode())
}

// check is the one loading path of every peruser kind: the kind, the embedded schema,
// a strict decode into T, then finish (defaulting and semantic validation). Errors
// carry source and the line lines gives; lines is returned for errors found later.
func check[T any](node *yaml.RNode, source string, lines func(string) int, kind string, compiled func() (*schema.Schema, error),
	finish func(*T) field.List) (*T, func(string) int, error) {
	fail := func(errs field.List) error { return errs.WithSource(source, lines).Sorted() }
	if errs := checkKind(node, kind); len(errs) > 0 {
		return nil, nil, fail(errs)
	}
	sch, err := compiled()
	if err != nil {
		return nil, nil, err
	}
	var v T
	if errs := decodeChecked(node, sch, &v); len(errs) > 0 {
		return nil, nil, fail(errs)
	}
	if errs := finish(&v); len(errs) > 0 {
		return nil, nil, fail(errs)
	}
	return &v, lines, nil
}

// LoadHardeningDocument reads and checks the Hardening in the file at path, and returns
// the file's line index too, for errors found once flags are laid over the file.
func LoadHardeningDocument(path string) (*v1alpha1.Hardening, func(string) int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading hardening config: %w", err)
	}
	node, err := single(data, path)
	if err != nil {
		return nil, nil, err
	}
	h, err := Hardening(node, path)
	if err != nil {
		return nil, nil, err
	}
	return h, linesOf(node), nil
}

// checkKind refuses a document of another kind in one line, before the schema would
// list every field that kind lacks.
func checkKind(node *yaml.RNode, kind string) field.List {
	// kyaml's field getters index a node's content as key/value pairs and panic on a
	// sequence ("- a: b"): anything but a mapping is refused before they are called.
	if y := node.YNode(); y == nil || y.Kind != yaml.MappingNode {
		return field.List{field.Errorf("", "must be a YAML mapping (apiVersion: %s, kind: %s, …), got %s",
			v1alpha1.APIVersion, kind, nodeKindName(node.YNode()))}
	}
	if node.GetApiVersion() == v1alpha1.APIVersion && node.GetKind() == kind {
		return nil
	}
	return field.List{field.Errorf("", "must be apiVersion: %s, kind: %s (got apiVersion: %q, kind: %q)",
		v1alpha1.APIVersion, kind, node.GetApiVersion(), node.GetKind())}
}

// nodeKindName names a YAML node's kind in words, for "got a sequence" messages.
func nodeKindName(n *yaml.Node) string {
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.SequenceNode:
		return "a sequence"
	case yaml.ScalarNode:
		return fmt.Sprintf("the scalar %q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document node"
	}
	return "a mapping"
}

// decodeChecked validates node against sch and decodes it strictly into out. YAML goes
// through JSON so that the schema sees exactly what the Go types will decode.
func decodeChecked(node *yaml.RNode, sch *schema.Schema, out any) field.List {
	var raw any
	if err := node.YNode().Decode(&raw); err != nil {
		return field.List{{Message: fmt.Sprintf("cannot decode: %v", err)}}
	}
	js, err := json.Marshal(raw)
	if err != nil {
		return field.List{{Message: fmt.Sprintf("not representable as JSON (are all keys strings?): %v", err)}}
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		return field.List{{Message: err.Error()}}
	}
	if errs := sch.Validate(doc); len(errs) > 0 {
		return errs
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields() // the schema already refuses them; this guards schema/type drift
	if err := dec.Decode(out); err != nil {
		return field.List{{Message: fmt.Sprintf("decoding: %v", err)}}
	}
	return nil
}

// lineIndex returns a function that finds the line of a field path in the document,
// falling back to the nearest ancestor that exists (a missing field is reported at
// its parent's line).
func lineIndex(root *yaml.Node) func(path string) int {
	return func(path string) int {
		n := root
		if n == nil {
			return 0
		}
		line := n.Line
		for _, tok := range splitPath(path) {
			next, keyLine := step(n, tok)
			if next == nil {
				return line
			}
			if keyLine > 0 {
				line = keyLine
			} else {
				line = next.Line
			}
			n = next
		}
		return line
	}
}

// step descends one path token; for a mapping it also returns the key's line, which
// is where an editor should jump.
func step(n *yaml.Node, tok string) (*yaml.Node, int) {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == tok {
				return n.Content[i+1], n.Content[i].Line
			}
		}
	case yaml.SequenceNode:
		if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(n.Content) {
			return n.Content[i], 0
		}
	}
	return nil, 0
}

// splitPath splits a field.Path string: spec.users[2].uid, labels["a/b"].
func splitPath(p string) []string {
	var toks []string
	for len(p) > 0 {
		switch p[0] {
		case '.':
			p = p[1:]
		case '[':
			end := strings.IndexByte(p, ']')
			if end < 0 {
				return toks
			}
			inner := p[1:end]
			if strings.HasPrefix(inner, "\"") {
				// A quoted key may itself hold ']': find the closing quote.
				if q, err := strconv.QuotedPrefix(p[1:]); err == nil {
					s, _ := strconv.Unquote(q)
					toks = append(toks, s)
					p = p[1+len(q):]
					if strings.HasPrefix(p, "]") {
						p = p[1:]
					}
					continue
				}
			}
			toks = append(toks, inner)
			p = p[end+1:]
		default:
			end := strings.IndexAny(p, ".[")
			if end < 0 {
				end = len(p)
			}
			toks = append(toks, p[:end])
			p = p[end:]
		}
	}
	return toks
}

// Shard is a loaded SiteShard with its Site: what renders one part of a sharded site.
type Shard struct {
	Config *v1alpha1.SiteShard
	// Source is the SiteShard's file; Site is the Site it names, already checked.
	Source string
	Site   *Document
}

// LoadShard reads and checks the SiteShard in the file at path, then the Site it
// names (relative to the SiteShard's folder), and checks that the two agree and that
// the file lies in its part's folder.
func LoadShard(path string) (*Shard, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading shard config: %w", err)
	}
	node, err := single(data, path)
	if err != nil {
		return nil, err
	}
	return ShardFromNodeAt(node, path, node, filepath.Dir(path))
}

// ShardFromNodeAt checks an already parsed SiteShard from source whose folder is dir
// (the working directory for a KRM functionConfig), then loads its Site. Lines are
// looked up in at, as for NodeDocumentAt.
func ShardFromNodeAt(node *yaml.RNode, source string, at *yaml.RNode, dir string) (*Shard, error) {
	cfg, lines, err := check(node, source, linesOf(at), v1alpha1.SiteShardKind, schema.SiteShard, (*v1alpha1.SiteShard).Validate)
	if err != nil {
		return nil, err
	}
	sitePath := cfg.Spec.SiteFile
	if !filepath.IsAbs(sitePath) {
		sitePath = filepath.Join(dir, sitePath)
	}
	if _, err := os.Stat(sitePath); err != nil {
		return nil, field.List{field.Errorf("spec.siteFile", "cannot read the Site %s: %v", sitePath, unwrapPathError(err))}.WithSource(source, lines)
	}
	doc, err := LoadDocument(sitePath)
	if err != nil {
		return nil, err
	}
	folder := ""
	if abs, err := filepath.Abs(dir); err == nil {
		folder = filepath.Base(abs)
	}
	if errs := cfg.CheckAgainst(doc.Site, folder); len(errs) > 0 {
		return nil, errs.WithSource(source, lines).Sorted()
	}
	return &Shard{Config: cfg, Source: source, Site: doc}, nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Kind is the kind of a single-document file, read without checking the document, so
// that a command accepting several kinds can dispatch on it.
func Kind(data []byte, source string) (string, *yaml.RNode, error) {
	node, err := single(data, source)
	if err != nil {
		return "", nil, err
	}
	if node.YNode().Kind != yaml.MappingNode {
		return "", node, nil
	}
	return node.GetKind(), node, nil
}
