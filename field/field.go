// Package field is the error type every peruser input check returns: a problem tied to
// a field path such as spec.users[2].uid, and optionally to the file and line it came
// from, so that an administrator can go straight to the line at fault.
package field

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem with one field.
type Error struct {
	// Path is the field path, e.g. "spec.users[2].uid". Empty for the document itself.
	Path string
	// Message says what is wrong and what is accepted.
	Message string
	// Line is the 1-based line in Source where the field stands; 0 when unknown.
	Line int
	// Source is the file (or other origin) the document came from; may be empty.
	Source string
}

func (e Error) Error() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(e.Source)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Errorf makes an Error at path.
func Errorf(path, format string, args ...any) Error {
	return Error{Path: path, Message: fmt.Sprintf(format, args...)}
}

// List is a set of problems reported together, one per line.
type List []Error

func (l List) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// ErrOrNil returns nil for an empty list, so callers can `return errs.ErrOrNil()`.
func (l List) ErrOrNil() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// WithSource attributes the errors that have no source yet to source, filling in Line
// from lines, a function that maps a field path to its line (0 when unknown). Errors
// that already name their file (a snapshot, a site read by the post-renderer) keep it:
// they are about that file, not the one being reported on.
func (l List) WithSource(source string, lines func(path string) int) List {
	out := make(List, len(l))
	for i, e := range l {
		if e.Source == "" {
			e.Source = source
			if e.Line == 0 && lines != nil {
				e.Line = lines(e.Path)
			}
		}
		out[i] = e
	}
	return out
}

// Sorted orders the list by line, then path, then message, so output is stable.
func (l List) Sorted() List {
	out := append(List(nil), l...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Line != out[j].Line {
			return out[i].Line < out[j].Line
		}
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Message < out[j].Message
	})
	return out
}

// Path builds field paths: Path("spec").Child("users").Index(2).Child("uid").
type Path string

// Child appends a field name.
func (p Path) Child(name string) Path {
	if p == "" {
		return Path(name)
	}
	return Path(string(p) + "." + name)
}

// Index appends a list index.
func (p Path) Index(i int) Path { return Path(fmt.Sprintf("%s[%d]", p, i)) }

// Key appends a map key; keys that are not plain identifiers are quoted.
func (p Path) Key(k string) Path {
	if isIdent(k) {
		return p.Child(k)
	}
	return Path(fmt.Sprintf("%s[%q]", p, k))
}

func (p Path) String() string { return string(p) }

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
