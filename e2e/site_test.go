package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/yaml"

	"github.com/peruser-dev/peruser/e2e/harness"
	"github.com/peruser-dev/peruser/internal/testenv"
)

// Labels and annotations of peruser's output (docs/generators.md) that the suite selects on.
const (
	labelManagedBy   = "app.kubernetes.io/managed-by"
	managedBy        = "peruser"
	labelUser        = "peruser.dev/user"
	annotUsername    = "peruser.dev/username"
	annotUID         = "peruser.dev/uid"
	annotGID         = "peruser.dev/gid"
	annotSupplGroups = "peruser.dev/supplemental-gids"
)

// exampleUser is the site's user the tests judge by: oakley in the bundled example site,
// or PERUSER_E2E_USER when PERUSER_E2E_SITE_DIR points at another site.
var exampleUser = envOr("PERUSER_E2E_USER", "oakley")

// siteSpec is the part of the Site spec (docs/spec.md, a contract for tests outside the
// project) that the suite reads. It is not peruser's own Go type on purpose: the suite checks
// the documented field names, whatever the Go code calls them.
type siteSpec struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Spec       struct {
		RBAC struct {
			SubjectPrefix             string `json:"subjectPrefix"`
			ServiceAccountClusterRole string `json:"serviceAccountClusterRole"`
		} `json:"rbac"`
		Users []struct {
			Name string `json:"name"`
		} `json:"users"`
		Registry *struct {
			SecretName           string `json:"secretName"`
			DockerConfigJSONFile string `json:"dockerConfigJSONFile"`
		} `json:"registry"`
	} `json:"spec"`
}

const (
	siteAPIVersion = "peruser.dev/v1alpha1"
	siteKind       = "Site"
)

// site is the example site as a user would deploy it: the spec, and what kustomize rendered
// from it and the suite applied.
type site struct {
	// Dir is the kustomization's folder; SpecPath the Site generator file in it.
	Dir, SpecPath string
	Spec          siteSpec
	Objects       []*unstructured.Unstructured
	Manifest      []byte
}

var (
	siteOnce sync.Once
	applied  *site
	siteErr  error
)

// appliedSite renders the example site (the root kustomization, or PERUSER_E2E_SITE_DIR) and
// applies it server-side once for the whole suite; later tests read the cluster it left.
func appliedSite(t *testing.T) *site {
	t.Helper()
	kustomize := testenv.Kustomize(t)
	c := testCluster(t)
	siteOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		applied, siteErr = renderSite(ctx, kustomize, envOr("PERUSER_E2E_SITE_DIR", testenv.RepoRoot()))
		if siteErr == nil {
			siteErr = applySite(ctx, c, applied.Manifest)
		}
		if siteErr == nil {
			siteErr = settleQuotas(ctx, c, applied.Objects)
		}
	})
	if siteErr != nil {
		t.Fatalf("example site: %v", siteErr)
	}
	return applied
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// renderSite runs the real `kustomize build --enable-alpha-plugins --enable-exec dir`.
func renderSite(ctx context.Context, kustomize, dir string) (*site, error) {
	s := &site{Dir: dir}
	var err error
	if s.SpecPath, err = siteSpecPath(dir); err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(dir, s.SpecPath))
	if err != nil {
		return nil, fmt.Errorf("reading the Site: %w", err)
	}
	if err := yaml.Unmarshal(raw, &s.Spec); err != nil {
		return nil, fmt.Errorf("parsing the Site %s: %w", s.SpecPath, err)
	}
	if s.Manifest, err = harness.KustomizeBuild(ctx, kustomize, dir); err != nil {
		return nil, err
	}
	if s.Objects, err = harness.ParseObjects(s.Manifest); err != nil {
		return nil, fmt.Errorf("kustomize's output: %w", err)
	}
	if len(s.Objects) == 0 {
		return nil, fmt.Errorf("kustomize build %s rendered nothing", dir)
	}
	return s, nil
}

// siteSpecPath finds the Site among the kustomization's generators.
func siteSpecPath(dir string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return "", fmt.Errorf("reading the kustomization: %w", err)
	}
	var k struct {
		Generators []string `json:"generators"`
	}
	if err := yaml.Unmarshal(raw, &k); err != nil {
		return "", fmt.Errorf("parsing %s/kustomization.yaml: %w", dir, err)
	}
	for _, g := range k.Generators {
		b, err := os.ReadFile(filepath.Join(dir, g))
		if err != nil {
			continue // a generator directory, not a Site file
		}
		var head siteSpec
		if yaml.Unmarshal(b, &head) == nil && head.APIVersion == siteAPIVersion && head.Kind == siteKind {
			return g, nil
		}
	}
	return "", fmt.Errorf("%s/kustomization.yaml lists no %s %s among its generators", dir, siteAPIVersion, siteKind)
}

// applySite applies a rendered site with `kubectl apply --server-side`, the way a GitOps
// engine or a CI job does.
func applySite(ctx context.Context, c *harness.Cluster, manifest []byte, extraArgs ...string) error {
	args := append([]string{"apply", "--server-side", "-f", "-"}, extraArgs...)
	if _, err := c.RunKubectl(ctx, manifest, args...); err != nil {
		return fmt.Errorf("applying the rendered site: %w", err)
	}
	return nil
}

// settleQuotas makes the ResourceQuotas usable. Quota admission refuses every pod in a
// namespace whose quota has no status yet, and only kube-controller-manager computes that
// status: on a real cluster the suite waits for it; on the local control plane, which runs
// no controller-manager, it writes what the controller would write for an empty namespace.
func settleQuotas(ctx context.Context, c *harness.Cluster, objs []*unstructured.Unstructured) error {
	for _, o := range harness.Select(objs, "ResourceQuota", "") {
		quotas := c.Client.CoreV1().ResourceQuotas(o.GetNamespace())
		if !c.Local {
			err := wait.PollUntilContextTimeout(ctx, time.Second, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
				q, err := quotas.Get(ctx, o.GetName(), metav1.GetOptions{})
				return err == nil && len(q.Status.Hard) > 0, nil
			})
			if err != nil {
				return fmt.Errorf("waiting for the controller-manager to fill in %s's status: %w", harness.Describe(o), err)
			}
			continue
		}
		q, err := quotas.Get(ctx, o.GetName(), metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("reading %s: %w", harness.Describe(o), err)
		}
		if len(q.Status.Hard) > 0 {
			continue
		}
		q.Status.Hard = q.Spec.Hard.DeepCopy()
		q.Status.Used = corev1.ResourceList{}
		for name := range q.Spec.Hard {
			q.Status.Used[name] = resource.MustParse("0")
		}
		if _, err := quotas.UpdateStatus(ctx, q, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("filling in %s's status: %w", harness.Describe(o), err)
		}
	}
	return nil
}

// userNamespace is the Namespace the site gives username, found by its username annotation.
func (s *site) userNamespace(t *testing.T, username string) *unstructured.Unstructured {
	t.Helper()
	for _, ns := range harness.Select(s.Objects, "Namespace", "") {
		if ns.GetAnnotations()[annotUsername] == username {
			return ns
		}
	}
	t.Fatalf("the rendered site has no Namespace annotated %s=%s", annotUsername, username)
	return nil
}

// otherUserNamespace is a user Namespace that does not belong to username.
func (s *site) otherUserNamespace(t *testing.T, username string) *unstructured.Unstructured {
	t.Helper()
	for _, ns := range harness.Select(s.Objects, "Namespace", "") {
		if u := ns.GetAnnotations()[annotUsername]; u != "" && u != username {
			return ns
		}
	}
	t.Fatalf("the rendered site has no user Namespace besides %s's", username)
	return nil
}

// subject is the name the API server authenticates username as (the OIDC prefix + name).
func (s *site) subject(username string) harness.Subject {
	return harness.Subject{User: s.Spec.Spec.RBAC.SubjectPrefix + username, Groups: []string{"system:authenticated"}}
}

// TestExampleSiteAppliesServerSide: the example site, rendered through the real kustomize
// and krm-fn, applies server-side without error, every object lands, and applying it again
// changes nothing (the output is canonical: no field the server rewrites).
func TestExampleSiteAppliesServerSide(t *testing.T) {
	s := appliedSite(t)
	c := testCluster(t)
	ctx := testContext(t)

	before := resourceVersions(ctx, t, c, s.Objects)
	if err := applySite(ctx, c, s.Manifest); err != nil {
		t.Fatalf("second apply: %v", err)
	}
	after := resourceVersions(ctx, t, c, s.Objects)
	var changed []string
	for obj, rv := range before {
		if after[obj] != rv {
			changed = append(changed, obj)
		}
	}
	if len(changed) > 0 {
		t.Errorf("a second server-side apply changed %d objects (the rendered form differs from what the server stores):\n  %s",
			len(changed), strings.Join(changed, "\n  "))
	}
}

// resourceVersions reads every object's live resourceVersion; a no-op apply keeps them all.
func resourceVersions(ctx context.Context, t *testing.T, c *harness.Cluster, objs []*unstructured.Unstructured) map[string]string {
	t.Helper()
	rvs := map[string]string{}
	for _, o := range objs {
		live, err := c.Get(ctx, o)
		if err != nil {
			t.Fatalf("%v (rendered but not in the cluster)", err)
		}
		rvs[harness.Describe(o)] = live.GetResourceVersion()
	}
	return rvs
}
