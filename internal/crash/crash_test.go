package crash

import (
	"bytes"
	"testing"

	// Defines -update, so that `go test ./... -update` runs in every package.
	_ "github.com/peruser-dev/peruser/internal/golden"
)

func TestGuard(t *testing.T) {
	var stderr bytes.Buffer
	code := Guard("prog", &stderr, func() int { panic("boom\nsecond line") })
	if code != ExitCode {
		t.Fatalf("code %d, want %d", code, ExitCode)
	}
	want := "prog: internal error: boom second line (please report this bug with the input that caused it)\n"
	if stderr.String() != want {
		t.Fatalf("stderr %q, want %q", stderr.String(), want)
	}
	stderr.Reset()
	if code := Guard("prog", &stderr, func() int { return 4 }); code != 4 || stderr.Len() != 0 {
		t.Fatalf("no panic: code %d, stderr %q", code, stderr.String())
	}
}
