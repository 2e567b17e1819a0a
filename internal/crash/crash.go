// Package crash turns a panic at the top of a command into the one-line error every
// other failure is: a Go stack trace on a user's terminal (or in an Argo CD sync
// status) says nothing they can act on, and exit code 2 is already a usage error.
package crash

import (
	"fmt"
	"io"
)

// ExitCode is the exit code of an internal error: distinct from 1 (bad input) and 2
// (usage), so scripts can tell a bug from a mistake.
const ExitCode = 3

// Guard runs fn and returns its exit code. If fn panics, Guard writes one line,
// "PROG: internal error: VALUE (please report this)", to stderr and returns ExitCode.
// fn must write nothing to the real stdout before it has succeeded (both commands
// buffer their output), so a panic leaves stdout empty.
func Guard(prog string, stderr io.Writer, fn func() int) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "%s: internal error: %v (please report this bug with the input that caused it)\n", prog, oneLine(r))
			code = ExitCode
		}
	}()
	return fn()
}

func oneLine(v any) string {
	s := fmt.Sprint(v)
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '\n' || r == '\r' {
			r = ' '
		}
		out = append(out, r)
	}
	return string(out)
}
