package harden

import "bytes"

// A chunk is one YAML document of the input stream, kept as byte ranges of the input so
// that a document we do not change is written back byte for byte. A chunk is laid out as
//
//	prefix: the "---" line and the comment and blank lines before the document's content
//	        (Helm's "# Source:" line lives here)
//	body:   the content, which is what gets parsed
//	suffix: an explicit end-of-document line ("..."), if any
//
// Concatenating every chunk's bytes gives back the input exactly.
type chunk struct {
	start, bodyStart, suffixStart, end int
	// line is the 1-based line of the chunk's first byte in the stream.
	line int
	// sepInBody is set when the "---" line itself carries content ("--- !!map" or
	// "--- {a: 1}"): the separator then belongs to the parsed body, and a rewritten body
	// must be preceded by a fresh "---".
	sepInBody bool
}

type lineKind int

const (
	lineBlank lineKind = iota
	lineComment
	lineSeparator // "---" alone, or followed by a comment
	lineSeparatorWithContent
	lineEnd // "..."
	lineDirective
	lineContent
)

// classify decides what one line is, the way a YAML parser sees a line at the top level:
// "---" and "..." at column 0 followed by white space always end a document, even inside
// a block scalar, so splitting on them never cuts through a value.
func classify(l []byte) lineKind {
	switch {
	case marker(l, '-'):
		rest := bytes.TrimLeft(l[3:], " \t\r\n")
		if len(rest) == 0 || rest[0] == '#' {
			return lineSeparator
		}
		return lineSeparatorWithContent
	case marker(l, '.'):
		return lineEnd
	case len(l) > 0 && l[0] == '%':
		return lineDirective
	}
	t := bytes.TrimLeft(l, " \t\r\n")
	switch {
	case len(t) == 0:
		return lineBlank
	case t[0] == '#':
		return lineComment
	}
	return lineContent
}

// marker reports whether l starts with three c's followed by white space or the end.
func marker(l []byte, c byte) bool {
	if len(l) < 3 || l[0] != c || l[1] != c || l[2] != c {
		return false
	}
	return len(l) == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\r' || l[3] == '\n'
}

// split cuts a stream into chunks. A "---" line starts a new chunk unless the current
// one holds nothing but comments and directives (so a stream that opens with "---", as
// Helm's does, has no empty first document); a "..." line ends the current chunk.
func split(in []byte) []chunk {
	var (
		chunks  []chunk
		cur     = chunk{bodyStart: -1, suffixStart: -1, line: 1}
		hasSep  bool
		content bool
		line    = 1
	)
	closeAt := func(off int) {
		if cur.bodyStart < 0 {
			cur.bodyStart = off
		}
		if cur.suffixStart < 0 {
			cur.suffixStart = off
		}
		cur.end = off
		chunks = append(chunks, cur)
		cur = chunk{start: off, bodyStart: -1, suffixStart: -1, line: line}
		hasSep, content = false, false
	}
	for off := 0; off < len(in); {
		n := bytes.IndexByte(in[off:], '\n')
		next := len(in)
		if n >= 0 {
			next = off + n + 1
		}
		l := in[off:next]
		if off == 0 {
			l = bytes.TrimPrefix(l, []byte("\xef\xbb\xbf")) // a byte order mark is not content
		}
		switch classify(l) {
		case lineSeparator, lineSeparatorWithContent:
			if hasSep || content {
				closeAt(off)
			}
			hasSep = true
			if classify(l) == lineSeparatorWithContent {
				content = true
				if cur.bodyStart < 0 {
					cur.bodyStart = off
					cur.sepInBody = true
				}
			}
		case lineEnd:
			if cur.bodyStart < 0 {
				cur.bodyStart = off
			}
			cur.suffixStart = off
			line++
			closeAt(next)
			off = next
			continue
		case lineDirective:
			// Directives belong to the document that follows; they must be parsed with it.
			if cur.bodyStart < 0 {
				cur.bodyStart = off
				cur.sepInBody = true
			}
		case lineContent:
			content = true
			if cur.bodyStart < 0 {
				cur.bodyStart = off
			}
		}
		line++
		off = next
	}
	if len(in) > cur.start {
		closeAt(len(in))
	}
	return chunks
}
