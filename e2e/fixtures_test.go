package e2e

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/peruser-dev/peruser/e2e/harness"
	"github.com/peruser-dev/peruser/internal/golden"
	"github.com/peruser-dev/peruser/internal/testenv"
)

// dryRunNamespace holds the namespaced objects of the fixtures during the dry run: their
// own namespaces exist only as dry-run creations, and creating them for real would
// change namespaces (and uid annotations) the other tests rely on.
const dryRunNamespace = "peruser-fixture-dryrun"

// TestFixturesPassAPIServerValidation renders every fixture that is not an error case
// with the real krm-fn and has the apiserver validate each object with a server-side
// dry-run (strict field validation): whatever peruser's validation accepts, the
// apiserver must accept too, so the two cannot drift apart. Kinds the cluster does not
// serve (ExternalSecret without its CRD) are skipped.
func TestFixturesPassAPIServerValidation(t *testing.T) {
	c := testCluster(t)
	ctx := testContext(t)
	bin := testenv.Binary(t, "./cmd/krm-fn")
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: dryRunNamespace}}
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Client.CoreV1().Namespaces().Delete(context.Background(), dryRunNamespace, metav1.DeleteOptions{})
	})
	sites, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "fixtures", "*", golden.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, site := range sites {
		dir := filepath.Dir(site)
		if _, err := os.Stat(filepath.Join(dir, golden.ErrorsFile)); err == nil {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			out := renderFixture(t, bin, dir)
			objs, err := harness.ParseObjects(out)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range objs {
				namespaced, err := c.Namespaced(o)
				if err != nil {
					t.Logf("skipping %s: %v", harness.Describe(o), err)
					continue
				}
				if namespaced {
					o.SetNamespace(dryRunNamespace)
				}
				err = c.DryRunCreate(ctx, o)
				if err != nil && !apierrors.IsAlreadyExists(err) { // AlreadyExists: validated, then found
					t.Errorf("%s: the apiserver refuses it: %v", harness.Describe(o), err)
				}
				checked++
			}
		})
	}
	if checked < 50 {
		t.Errorf("only %d objects checked", checked)
	}
}

// renderFixture runs `krm-fn render config.yaml` in the fixture's directory with only
// the environment its env file gives, as the golden tests do.
func renderFixture(t *testing.T, bin, dir string) []byte {
	t.Helper()
	cmd := exec.Command(bin, "render", golden.ConfigFile)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	if f, err := os.Open(filepath.Join(dir, "env")); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
				cmd.Env = append(cmd.Env, l)
			}
		}
		f.Close()
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("krm-fn render: %v\n%s", err, stderr.String())
	}
	return stdout.Bytes()
}
