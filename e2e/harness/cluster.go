package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Cluster is an API server the suite talks to as a cluster administrator.
type Cluster struct {
	// Kubeconfig is the path of an administrator's kubeconfig, for kubectl.
	Kubeconfig string
	// Kubectl is the kubectl binary.
	Kubectl string
	// Local is true when the harness started the control plane itself: there is no
	// controller-manager, so nothing creates ServiceAccounts or fills ResourceQuota status.
	Local bool

	Config  *rest.Config
	Client  kubernetes.Interface
	Dynamic dynamic.Interface
	Mapper  meta.ResettableRESTMapper

	env   *envtest.Environment
	guard *exec.Cmd
	dir   string
}

// LocalOptions says where the control plane binaries are and where its files go.
type LocalOptions struct {
	// AssetsDir holds kube-apiserver, etcd and kubectl (envtest's KUBEBUILDER_ASSETS).
	AssetsDir string
	// Output receives the control plane's logs; nil discards them.
	Output io.Writer
}

// StartLocal starts etcd and kube-apiserver on 127.0.0.1 with the flags a user namespace
// needs to be judged the way a production cluster judges it, and returns an administrator
// connection to it. The caller must call Stop, also when tests fail.
func StartLocal(opts LocalOptions) (*Cluster, error) {
	for _, bin := range []string{"kube-apiserver", "etcd", "kubectl"} {
		if _, err := os.Stat(filepath.Join(opts.AssetsDir, bin)); err != nil {
			return nil, fmt.Errorf("control plane binary missing (run `make controlplane`): %w", err)
		}
	}
	dir, err := os.MkdirTemp("", "peruser-e2e-")
	if err != nil {
		return nil, fmt.Errorf("creating the suite's work directory: %w", err)
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory:    opts.AssetsDir,
		ControlPlaneStartTimeout: 60 * time.Second,
		// envtest sends SIGTERM and waits this long before SIGKILL.
		ControlPlaneStopTimeout: 60 * time.Second,
	}
	// envtest picks free ports on "localhost", which may resolve to ::1: name 127.0.0.1.
	ports, err := freePorts(3)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	etcd := &envtest.Etcd{}
	env.ControlPlane.Etcd = etcd
	etcd.Out, etcd.Err = opts.Output, opts.Output
	etcd.URL = &url.URL{Scheme: "http", Host: net.JoinHostPort(loopback, ports[0])}
	etcd.Configure().Set("listen-peer-urls", "http://"+net.JoinHostPort(loopback, ports[1]))

	api := env.ControlPlane.GetAPIServer()
	api.Out, api.Err = opts.Output, opts.Output
	api.SecureServing.Address, api.SecureServing.Port = loopback, ports[2]
	args := api.Configure()
	// There is no node and no kube-proxy: advertise loopback and keep the apiserver from
	// rewriting the kubernetes Service's endpoints.
	args.Set("advertise-address", "127.0.0.1")
	args.Set("endpoint-reconciler-type", "none")
	// Privileged pods must reach Pod Security Admission, which is what the suite judges;
	// validation would reject them first otherwise.
	args.Set("allow-privileged", "true")
	// Without a controller-manager no `default` ServiceAccount appears, and the plugin would
	// reject every pod; peruser's output creates that ServiceAccount itself.
	args.Set("disable-admission-plugins", "ServiceAccount")
	args.Set("authorization-mode", "RBAC")

	if _, err := env.Start(); err != nil {
		_ = env.Stop()
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("starting kube-apiserver and etcd: %w", err)
	}
	c := &Cluster{Local: true, env: env, dir: dir, Kubectl: filepath.Join(opts.AssetsDir, "kubectl")}
	// A panic or a `go test -timeout` ends this process without running Stop; the guard then
	// stops the control plane in the right order.
	if c.guard, err = startGuard(dir, etcd.DataDir, api.CertDir); err != nil {
		_ = c.Stop()
		return nil, err
	}
	c.Kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(c.Kubeconfig, env.KubeConfig, 0o600); err != nil {
		_ = c.Stop()
		return nil, fmt.Errorf("writing the admin kubeconfig: %w", err)
	}
	if err := c.connect(env.Config); err != nil {
		_ = c.Stop()
		return nil, err
	}
	return c, nil
}

// Connect uses the cluster of an existing kubeconfig and starts nothing.
func Connect(kubeconfig, kubectl string) (*Cluster, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig %s: %w", kubeconfig, err)
	}
	c := &Cluster{Kubeconfig: kubeconfig, Kubectl: kubectl}
	if err := c.connect(cfg); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Cluster) connect(cfg *rest.Config) error {
	cfg = rest.CopyConfig(cfg)
	// The suite sends bursts of SubjectAccessReviews and dry-runs; client-go's default
	// rate limit would make it wait, not the server.
	cfg.QPS, cfg.Burst = 200, 400
	c.Config = cfg
	var err error
	if c.Client, err = kubernetes.NewForConfig(cfg); err != nil {
		return fmt.Errorf("creating a clientset: %w", err)
	}
	if c.Dynamic, err = dynamic.NewForConfig(cfg); err != nil {
		return fmt.Errorf("creating a dynamic client: %w", err)
	}
	c.Mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(c.Client.Discovery()))
	if _, err := c.Client.Discovery().ServerVersion(); err != nil {
		return fmt.Errorf("reaching the API server: %w", err)
	}
	return nil
}

// Stop stops a control plane started by StartLocal: kube-apiserver first, then etcd (envtest
// signals each by PID in that order; the other order makes kube-apiserver hang for minutes).
// For a connected cluster it does nothing.
func (c *Cluster) Stop() error {
	if c.env == nil {
		return nil
	}
	var errs []error
	if c.guard != nil {
		// The guard must not fire on an orderly stop.
		_ = c.guard.Process.Kill()
		_ = c.guard.Wait()
		c.guard = nil
	}
	if err := c.env.Stop(); err != nil {
		errs = append(errs, fmt.Errorf("stopping kube-apiserver and etcd: %w", err))
	}
	c.env = nil
	if err := os.RemoveAll(c.dir); err != nil {
		errs = append(errs, fmt.Errorf("removing %s: %w", c.dir, err))
	}
	return errors.Join(errs...)
}

// RunKubectl runs kubectl against the cluster with stdin as input and returns its stdout;
// the error carries stderr, which is where kubectl explains a rejection.
func (c *Cluster) RunKubectl(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, c.Kubectl, append([]string{"--kubeconfig", c.Kubeconfig}, args...)...)
	if stdin != nil {
		cmd.Stdin = strings.NewReader(string(stdin))
	}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return []byte(stdout.String()), fmt.Errorf("kubectl %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return []byte(stdout.String()), nil
}

// startGuard starts a watchdog shell that waits for this process to end and then stops the
// control plane's processes by PID, kube-apiserver before etcd, and removes dirs. Stop kills
// it first.
func startGuard(dirs ...string) (*exec.Cmd, error) {
	api, etcd, err := controlPlanePIDs()
	if err != nil {
		return nil, err
	}
	args := []string{"-c", guardScript, "guard", strconv.Itoa(os.Getpid()), strconv.Itoa(api), strconv.Itoa(etcd)}
	cmd := exec.Command("/bin/sh", append(args, dirs...)...)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the control plane guard: %w", err)
	}
	return cmd, nil
}

// loopback is the only address the suite's servers listen on.
const loopback = "127.0.0.1"

// freePorts returns n distinct ports that are free on the loopback address now.
func freePorts(n int) ([]string, error) {
	var ports []string
	for range n {
		l, err := net.Listen("tcp", net.JoinHostPort(loopback, "0"))
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		// Keep each listener open until all are chosen, so the ports differ.
		defer l.Close()
		ports = append(ports, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
	return ports, nil
}

// guardScript treats a zombie as gone: nobody may reap the orphans here.
const guardScript = `
alive() { s=$(cut -d' ' -f3 /proc/$1/stat 2>/dev/null); [ -n "$s" ] && [ "$s" != Z ]; }
stop() {
  kill -TERM "$1" 2>/dev/null; i=0
  while alive "$1" && [ $i -lt 60 ]; do sleep 1; i=$((i+1)); done
  kill -KILL "$1" 2>/dev/null
}
while alive "$1"; do sleep 1; done
stop "$2"; stop "$3"
shift 3; rm -rf "$@"
`

// controlPlanePIDs finds this process's kube-apiserver and etcd children: envtest does not
// expose their PIDs.
func controlPlanePIDs() (api, etcd int, err error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, 0, fmt.Errorf("listing processes: %w", err)
	}
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces, so split after the last ')'.
		s := string(stat)
		open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closing < open {
			continue
		}
		fields := strings.Fields(s[closing+1:])
		if len(fields) < 2 || fields[1] != strconv.Itoa(self) {
			continue
		}
		switch s[open+1 : closing] {
		case "kube-apiserver":
			api = pid
		case "etcd":
			etcd = pid
		}
	}
	if api == 0 || etcd == 0 {
		return 0, 0, fmt.Errorf("finding the control plane's PIDs: kube-apiserver=%d etcd=%d", api, etcd)
	}
	return api, etcd, nil
}
