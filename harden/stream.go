package harden

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/field"
)

// HelmFilenameAnnotation is the annotation Helm 4 puts on every document it sends to a
// post-renderer, naming the template the document came from. It must be kept: Helm 4
// uses it to put the documents back into their files.
const HelmFilenameAnnotation = "postrenderer.helm.sh/postrender-filename"

// Stats counts what a run did.
type Stats struct {
	// Documents is the number of documents in the stream, empty ones included; the
	// output has as many.
	Documents int
	// Rewritten is the number of documents that changed and were re-serialized.
	Rewritten int
}

// Stream hardens a YAML stream. Documents are cut apart on their "---" lines and each
// is parsed once; a document that hardening does not change (no pod template, or one
// already hardened) is copied byte for byte, and a changed one is re-serialized with
// its leading comments (Helm's "# Source:" line) and separator kept. So the output has
// the documents of the input, in order, and running Stream on its own output returns it
// unchanged. On any error the output is nil: invalid YAML names the document and line,
// unsafe pods name the document, object and field (all of them, not just the first).
func (h *Hardener) Stream(in []byte) ([]byte, Stats, error) {
	var (
		stats Stats
		errs  Errors
		out   bytes.Buffer
	)
	out.Grow(len(in) + len(in)/4)
	chunks := split(in)
	stats.Documents = len(chunks)
	for i, c := range chunks {
		body := in[c.bodyStart:c.suffixStart]
		raw := in[c.start:c.end]
		if len(bytes.TrimSpace(body)) == 0 {
			out.Write(raw)
			continue
		}
		doc, err := parseOne(body)
		if err != nil {
			errs = append(errs, &DocumentError{
				Document: i + 1, Line: c.line, Source: sourceComment(in[c.start:c.bodyStart]),
				Errs: field.List{{Message: "invalid YAML: " + relineError(err, c.line+bytes.Count(in[c.start:c.bodyStart], []byte("\n")))}},
			})
			continue
		}
		if doc == nil {
			out.Write(raw)
			continue
		}
		changed, derrs := h.Object(doc)
		if len(derrs) > 0 {
			src := sourceComment(in[c.start:c.bodyStart])
			if src == "" {
				src = helmFilename(doc)
			}
			for _, e := range derrs {
				e.Document, e.Line, e.Source = i+1, c.line, src
			}
			errs = append(errs, derrs...)
			continue
		}
		if !changed || len(errs) > 0 {
			out.Write(raw) // once anything failed the output is dropped: skip the work
			continue
		}
		stats.Rewritten++
		out.Write(in[c.start:c.bodyStart])
		if c.sepInBody {
			out.WriteString("---\n")
		}
		if err := encode(&out, doc, body); err != nil {
			errs = append(errs, &DocumentError{Document: i + 1, Line: c.line, Errs: field.List{{Message: "writing YAML: " + err.Error()}}})
			continue
		}
		out.Write(in[c.suffixStart:c.end])
	}
	if len(errs) > 0 {
		return nil, stats, errs
	}
	return out.Bytes(), stats, nil
}

// parseOne parses the body of one chunk: a single document, or none (nil).
func parseOne(body []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(body))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	// split cuts at every "---" and "...", so a second document here is a parser
	// disagreement; refuse it rather than lose it.
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("more than one document without a --- line between them")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, nil
	}
	return &doc, nil
}

// encode writes a changed document with kyaml's encoder, keeping the sequence
// indentation style the document had (Helm charts mostly indent list items).
func encode(w *bytes.Buffer, doc *yaml.Node, original []byte) error {
	style := yaml.SequenceIndentStyle(yaml.DeriveSeqIndentStyle(string(original)))
	enc := yaml.NewEncoderWithOptions(w, &yaml.EncoderOptions{SeqIndent: style})
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return enc.Close()
}

var sourceRE = regexp.MustCompile(`(?m)^#\s*Source:\s*(\S.*?)\s*$`)

// sourceComment returns the template named by Helm's "# Source:" comment.
func sourceComment(prefix []byte) string { return SourceComment(string(prefix)) }

// SourceComment returns the chart template a "# Source: chart/templates/x.yaml" comment
// in comments names, or "": every front-end names documents in errors by it.
func SourceComment(comments string) string {
	if m := sourceRE.FindStringSubmatch(comments); m != nil {
		return m[1]
	}
	return ""
}

// helmFilename returns the template named by Helm 4's filename annotation.
func helmFilename(doc *yaml.Node) string {
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	return str(lookup(lookup(lookup(root, "metadata"), "annotations"), HelmFilenameAnnotation))
}

var lineRE = regexp.MustCompile(`line (\d+)`)

// relineError turns the parser's line numbers, counted from the document's body, into
// lines of the whole stream.
func relineError(err error, bodyLine int) string {
	return lineRE.ReplaceAllStringFunc(err.Error(), func(m string) string {
		n, _ := strconv.Atoi(m[len("line "):])
		return "line " + strconv.Itoa(n+bodyLine-1)
	})
}
