package directory

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/peruser-dev/peruser/internal/testenv"
)

// FuzzParseSnapshot feeds arbitrary bytes to the snapshot reader: never a panic; a
// snapshot it accepts writes back to bytes it reads as the same snapshot.
func FuzzParseSnapshot(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join(testenv.RepoRoot(), "fixtures", "*", "*.lock.yaml"))
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("apiVersion: peruser.dev/v1alpha1\nkind: DirectorySnapshot\nmetadata: {name: s}\nsource: {url: ldap://x}\nusers:\n- {name: a, uid: 1, gid: 1, groups: [{name: g, gid: 2}]}\n"))
	f.Add([]byte("- a: b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSnapshot(data, "fuzz.lock.yaml")
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		out, err := s.Marshal()
		if err != nil {
			t.Fatalf("accepted snapshot does not marshal: %v", err)
		}
		again, err := ParseSnapshot(out, "again.lock.yaml")
		if err != nil {
			t.Fatalf("written snapshot does not read back: %v\n%s", err, out)
		}
		out2, err := again.Marshal()
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("snapshot does not round-trip:\n%s\n---\n%s", out, out2)
		}
	})
}
