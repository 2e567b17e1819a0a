package harden

import (
	"bytes"
	"testing"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name string
		in   string
		// bodies are the parsed parts of each chunk, in order.
		bodies []string
	}{
		{"empty", "", nil},
		{"one bare document", "a: 1\n", []string{"a: 1\n"}},
		{"helm 3 stream", "---\n# Source: x\na: 1\n---\n# Source: y\nb: 2\n", []string{"a: 1\n", "b: 2\n"}},
		{"leading comment joins the first document", "# top\n---\na: 1\n", []string{"a: 1\n"}},
		{"empty documents count", "---\n---\na: 1\n---\n", []string{"", "a: 1\n", ""}},
		{"comment-only document", "---\n# only\n---\na: 1\n", []string{"", "a: 1\n"}},
		{"separator with a comment", "a: 1\n--- # c\nb: 2\n", []string{"a: 1\n", "b: 2\n"}},
		{"separator with content", "a: 1\n--- {b: 2}\n", []string{"a: 1\n", "--- {b: 2}\n"}},
		{"indented --- is content", "s: |\n  ---\n  x\n", []string{"s: |\n  ---\n  x\n"}},
		{"---x is content", "a: 1\n---x: 2\n", []string{"a: 1\n---x: 2\n"}},
		{"document end marker", "a: 1\n...\n---\nb: 2\n", []string{"a: 1\n", "b: 2\n"}},
		{"bare document after end marker", "a: 1\n...\nb: 2\n", []string{"a: 1\n", "b: 2\n"}},
		{"directive joins its document", "%YAML 1.2\n---\na: 1\n", []string{"%YAML 1.2\n---\na: 1\n"}},
		{"windows line ends", "---\r\na: 1\r\n---\r\nb: 2\r\n", []string{"a: 1\r\n", "b: 2\r\n"}},
		{"no final newline", "---\na: 1", []string{"a: 1"}},
		{"byte order mark", "\xef\xbb\xbf---\na: 1\n", []string{"a: 1\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			chunks := split(in)
			var joined []byte
			var bodies []string
			for _, c := range chunks {
				joined = append(joined, in[c.start:c.end]...)
				bodies = append(bodies, string(in[c.bodyStart:c.suffixStart]))
			}
			if !bytes.Equal(joined, in) {
				t.Errorf("chunks do not add up to the input: %q", joined)
			}
			if len(bodies) != len(tt.bodies) {
				t.Fatalf("bodies %q, want %q", bodies, tt.bodies)
			}
			for i := range bodies {
				if bodies[i] != tt.bodies[i] {
					t.Errorf("body %d = %q, want %q", i, bodies[i], tt.bodies[i])
				}
			}
		})
	}
}

func TestSplitLines(t *testing.T) {
	in := []byte("---\na: 1\n---\n# c\nb: 2\n...\nc: 3\n")
	var lines []int
	for _, c := range split(in) {
		lines = append(lines, c.line)
	}
	want := []int{1, 3, 7}
	if len(lines) != len(want) {
		t.Fatalf("lines %v, want %v", lines, want)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("lines %v, want %v", lines, want)
		}
	}
}
