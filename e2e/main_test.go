package e2e

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/peruser-dev/peruser/e2e/harness"
	"github.com/peruser-dev/peruser/internal/testenv"
)

// The suite's environment switches.
const (
	// envKubeconfig names a cluster to test instead of starting one (kind in users' CI).
	envKubeconfig = "PERUSER_E2E_KUBECONFIG"
	// envAssets is envtest's directory of kube-apiserver, etcd and kubectl.
	envAssets = "KUBEBUILDER_ASSETS"
	// envVerbose=1 copies the local control plane's logs to stderr.
	envVerbose = "PERUSER_E2E_VERBOSE"
)

var (
	clusterOnce sync.Once
	cluster     *harness.Cluster
	clusterErr  error
	// clusterMissing says which prerequisite is absent: a skip, or a failure under make.
	clusterMissing string
)

func TestMain(m *testing.M) {
	code := m.Run()
	// Stop the control plane whatever the tests did; a failure to stop fails the run.
	if cluster != nil {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// testCluster returns the cluster every test shares, starting it on first use.
func testCluster(t *testing.T) *harness.Cluster {
	t.Helper()
	clusterOnce.Do(func() { cluster, clusterMissing, clusterErr = openCluster() })
	if clusterMissing != "" {
		testenv.Missing(t, "%s", clusterMissing)
	}
	if clusterErr != nil {
		t.Fatal(clusterErr)
	}
	return cluster
}

func openCluster() (*harness.Cluster, string, error) {
	if kc := os.Getenv(envKubeconfig); kc != "" {
		kubectl := os.Getenv("KUBECTL")
		if kubectl == "" {
			kubectl = filepath.Join(assetsDir(), "kubectl")
		}
		if _, err := os.Stat(kubectl); err != nil {
			p, err := exec.LookPath("kubectl")
			if err != nil {
				return nil, "kubectl not found: set KUBECTL or run `make controlplane`", nil
			}
			kubectl = p
		}
		c, err := harness.Connect(kc, kubectl)
		return c, "", err
	}
	dir := assetsDir()
	if _, err := os.Stat(filepath.Join(dir, "kube-apiserver")); err != nil {
		return nil, fmt.Sprintf("no control plane binaries in %s: run `make controlplane`, set %s, or set %s", dir, envAssets, envKubeconfig), nil
	}
	var out io.Writer
	if os.Getenv(envVerbose) == "1" {
		out = os.Stderr
	}
	start := time.Now()
	c, err := harness.StartLocal(harness.LocalOptions{AssetsDir: dir, Output: out})
	if err == nil {
		fmt.Fprintf(os.Stderr, "e2e: kube-apiserver and etcd ready in %s\n", time.Since(start).Round(100*time.Millisecond))
	}
	return c, "", err
}

func assetsDir() string {
	if d := os.Getenv(envAssets); d != "" {
		return d
	}
	return filepath.Join(testenv.RepoRoot(), "bin", "controlplane")
}

// testContext is a context that ends before the test's deadline, so a hung kubectl or API
// call fails the test with a message instead of killing the binary.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
