package spec

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/peruser-dev/peruser/internal/testenv"
)

var (
	yamlBlock = regexp.MustCompile("(?s)```yaml\n(.*?)```")
	siteKey   = regexp.MustCompile(`(?m)^  (users|namespace|directory|profiles|registry|ingress|storage|networkPolicy|reapers|admission|rbac|lifecycle|openOnDemand):`)
)

// TestDocumentedSitesLoad keeps the copy-paste examples true: every complete Site in the
// README and docs/ (a YAML block with apiVersion peruser.dev/v1alpha1 and kind: Site)
// must pass the schema and validation.
func TestDocumentedSitesLoad(t *testing.T) {
	root := testenv.RepoRoot()
	files, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	files = append(files, filepath.Join(root, "README.md"))
	found := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range yamlBlock.FindAllSubmatch(b, -1) {
			block := string(m[1])
			switch {
			case strings.Contains(block, "apiVersion: peruser.dev/v1alpha1") && strings.Contains(block, "\nkind: Site\n"):
			case strings.HasPrefix(firstLine(block), "spec:") && siteKey.MatchString(block):
				// A Site spec fragment (other kinds' specs have none of the Site's keys):
				// check it inside a minimal Site.
				block = "apiVersion: peruser.dev/v1alpha1\nkind: Site\nmetadata: {name: docs}\n" + block
			default:
				continue
			}
			found++
			name := filepath.Base(f) + "#" + string(rune('0'+i))
			if _, err := Parse([]byte(block), name); err != nil {
				t.Errorf("%s, YAML block %d: %v", filepath.Base(f), i+1, err)
			}
		}
	}
	if found == 0 {
		t.Fatal("no Site examples found in README.md and docs/")
	}
	t.Logf("%d documented Sites checked", found)
}

// firstLine is the first line that is neither blank nor a comment.
func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			return l
		}
	}
	return ""
}
