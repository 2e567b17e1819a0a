package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/peruser-dev/peruser/e2e/harness"
	"github.com/peruser-dev/peruser/internal/testenv"
)

// fixtureChart is the chart the suite installs: `helm create`'s default, which runs nginx as
// root with no securityContext, like most charts users bring.
const fixtureChart = "fixtures/charts/webapp"

// TestHardenedChartAdmittedUnderRestricted: a chart rendered by Helm 3 through peruser's
// post-renderer is admitted into a user namespace that enforces Pod Security "restricted"
// (and the site's admission policy), while the same chart rendered without it is rejected
// by Pod Security Admission.
func TestHardenedChartAdmittedUnderRestricted(t *testing.T) {
	helm := testenv.Helm3(t)
	s := appliedSite(t)
	c := testCluster(t)
	ctx := testContext(t)
	userNS := s.userNamespace(t, exampleUser)
	ns := userNS.GetName()
	if got := userNS.GetLabels()["pod-security.kubernetes.io/enforce"]; got != "restricted" {
		t.Fatalf("Namespace %s: label pod-security.kubernetes.io/enforce=%q, want restricted", ns, got)
	}
	id := namespaceIdentity(t, userNS)
	postRenderer := testenv.Binary(t, "./cmd/post-renderer")
	chart := filepath.Join(testenv.RepoRoot(), fixtureChart)

	prArgs := []string{"--uid=" + strconv.FormatInt(id.UID, 10), "--gid=" + strconv.FormatInt(id.GID, 10)}
	if len(id.Groups) > 0 {
		prArgs = append(prArgs, "--supplemental-groups="+joinInts(id.Groups))
	}
	hardened := helmTemplate(ctx, t, helm, chart, ns, postRenderer, prArgs...)
	plain := helmTemplate(ctx, t, helm, chart, ns, "")

	t.Run("hardened is admitted", func(t *testing.T) {
		objs, pods := chartObjects(t, c, hardened, ns)
		if len(pods) == 0 {
			t.Fatalf("%s renders no pod", fixtureChart)
		}
		for _, o := range append(objs, pods...) {
			if err := c.DryRunCreate(ctx, o); err != nil {
				t.Errorf("%s rejected: %v", harness.Describe(o), err)
			}
		}
	})
	t.Run("unhardened is rejected by Pod Security", func(t *testing.T) {
		_, pods := chartObjects(t, c, plain, ns)
		if len(pods) == 0 {
			t.Fatalf("%s renders no pod", fixtureChart)
		}
		for _, p := range pods {
			err := c.DryRunCreate(ctx, p)
			if !harness.IsForbiddenBy(err, "violates PodSecurity", "restricted") {
				t.Errorf("%s: want a Pod Security \"restricted\" rejection, got %v", harness.Describe(p), err)
			}
		}
	})
}

// helmTemplate renders chart for namespace with the real Helm 3 CLI, through postRenderer
// when one is given. Helm 3 never sends hooks (the chart's test pod is one) to a
// post-renderer, so they are left out of both renderings: they are not what it hardens.
func helmTemplate(ctx context.Context, t *testing.T, helm, chart, namespace, postRenderer string, args ...string) []byte {
	t.Helper()
	cmdArgs := []string{"template", "e2e", chart, "--namespace", namespace, "--no-hooks", "--skip-tests"}
	if postRenderer != "" {
		cmdArgs = append(cmdArgs, "--post-renderer", postRenderer)
		for _, a := range args {
			cmdArgs = append(cmdArgs, "--post-renderer-args="+a)
		}
	}
	cmd := exec.CommandContext(ctx, helm, cmdArgs...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Helm keeps its caches and config out of the developer's home.
	home := t.TempDir()
	cmd.Env = append(cmd.Environ(), "HELM_CACHE_HOME="+home, "HELM_CONFIG_HOME="+home, "HELM_DATA_HOME="+home)
	if err := cmd.Run(); err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(cmdArgs, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

// chartObjects parses a rendered chart, places its namespaced objects in namespace, and
// returns them with the pods its workloads would run.
func chartObjects(t *testing.T, c *harness.Cluster, rendered []byte, namespace string) (objs, pods []*unstructured.Unstructured) {
	t.Helper()
	objs, err := harness.ParseObjects(rendered)
	if err != nil {
		t.Fatalf("helm's output: %v", err)
	}
	for _, o := range objs {
		namespaced, err := c.Namespaced(o)
		if err != nil {
			t.Fatal(err)
		}
		if namespaced {
			o.SetNamespace(namespace)
		}
		pods = append(pods, harness.PodsOf(o, namespace)...)
	}
	return objs, pods
}

func joinInts(ns []int64) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ",")
}
