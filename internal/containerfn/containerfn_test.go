package containerfn_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peruser-dev/peruser/internal/containerfn"
	"github.com/peruser-dev/peruser/internal/testenv"
)

// The passwd both images copy must name nobody (kustomize's --user) and the image's USER.
func TestPasswdNamesNobodyAndTheNonRootUser(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), containerfn.PasswdDir, "passwd"))
	if err != nil {
		t.Fatal(err)
	}
	users := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(line, ":")
		if len(f) != 7 {
			t.Fatalf("passwd line %q: want 7 fields", line)
		}
		users[f[0]] = f[2] + ":" + f[3]
	}
	for name, want := range map[string]string{"nobody": "65534:65534", "nonroot": containerfn.NonRootUser} {
		if users[name] != want {
			t.Errorf("passwd: %s is %q, want %q", name, users[name], want)
		}
	}
	df, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"COPY " + containerfn.PasswdDir + "/passwd /etc/passwd", "USER " + containerfn.NonRootUser} {
		if !strings.Contains(string(df), want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}
