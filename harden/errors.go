package harden

import (
	"fmt"
	"strings"

	"github.com/peruser-dev/peruser/field"
)

// DocumentError is everything wrong with one object of a stream. Its lines read
//
//	templates/daemonset.yaml: DaemonSet/agent: spec.template.spec.volumes[0].hostPath: hostPath "/" is not allowed (allowed prefixes: none); allow it with --allow-host-path / or exceptions.hostPathPrefixes, or disable it in the chart's values
//
// naming the source file (Helm's "# Source:" comment, Helm 4's filename annotation or
// kustomize's path annotation) or, without one, the document's position in the stream.
type DocumentError struct {
	// Document is the 1-based position of the document in the stream; 0 when unknown.
	Document int
	// Line is the line of the stream where the document starts; 0 when unknown.
	Line int
	// Source is the file the document came from, when the stream says so.
	Source string
	// Kind and Name identify the object (for a List, the item at fault).
	Kind, Name string
	// Errs are the problems, with field paths inside the document.
	Errs field.List
}

func (e *DocumentError) where() string {
	var parts []string
	switch {
	case e.Kind == "" && e.Name == "" && e.Document > 0:
		// Nothing was parsed (invalid YAML): the position is all there is to go by.
		w := fmt.Sprintf("document %d", e.Document)
		switch {
		case e.Line > 0 && e.Source != "":
			w += fmt.Sprintf(" (line %d, %s)", e.Line, e.Source)
		case e.Line > 0:
			w += fmt.Sprintf(" (line %d)", e.Line)
		case e.Source != "":
			w += fmt.Sprintf(" (%s)", e.Source)
		}
		parts = append(parts, w)
	case e.Source != "":
		parts = append(parts, e.Source)
	case e.Document > 0 && e.Line > 0:
		parts = append(parts, fmt.Sprintf("document %d (line %d)", e.Document, e.Line))
	case e.Document > 0:
		parts = append(parts, fmt.Sprintf("document %d", e.Document))
	}
	if e.Kind != "" || e.Name != "" {
		parts = append(parts, e.Kind+"/"+e.Name)
	}
	return strings.Join(parts, ": ")
}

func (e *DocumentError) Error() string {
	where := e.where()
	lines := make([]string, len(e.Errs))
	for i, fe := range e.Errs {
		fe.Source = where // field.Error prints "source: path: message"
		lines[i] = fe.Error()
	}
	return strings.Join(lines, "\n")
}

// Errors is the problems of a whole stream, reported together so that one run shows
// everything to fix.
type Errors []*DocumentError

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Len is the number of field problems over all documents.
func (es Errors) Len() int {
	n := 0
	for _, e := range es {
		n += len(e.Errs)
	}
	return n
}
