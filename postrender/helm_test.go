package postrender

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/peruser-dev/peruser/harden"
	"github.com/peruser-dev/peruser/internal/testenv"
)

// identityArgs are the post-renderer arguments the Helm tests pass. hpc-suite's root,
// privileged and capability-adding containers are there to show the rewrite, which
// --allow-downgrade accepts (without it they are refused; see fixtures/harden/error-downgrade).
var identityArgs = []string{"--uid=20001", "--gid=20001", "--supplemental-groups=30001", "--allow-downgrade"}

// postRendererArgs spells arguments the way both Helms take them.
func postRendererArgs(args ...string) []string {
	var out []string
	for _, a := range args {
		out = append(out, "--post-renderer-args", a)
	}
	return out
}

// helmRun is one way of running a post-renderer under one Helm.
type helmRun struct {
	name string
	helm string
	env  []string
	// renderer is what --post-renderer takes: an executable (Helm 3), a plugin name (Helm 4).
	renderer string
	// hooksHardened: Helm 4 sends hooks (the pre-install Job, the test Pod) to the
	// post-renderer; Helm 3 never does.
	hooksHardened bool
	// groups are the supplemental groups expected on every pod (default: 30001).
	groups []int64
}

func helm3Run(t *testing.T) helmRun {
	helm := testenv.Helm3(t) // first: a test that skips builds no binary
	return helmRun{name: "helm3", helm: helm, env: helmEnv(t), renderer: postRendererBinary(t)}
}

// helm4Run installs the plugin from plugins/helm4/peruser the way a user would, offline:
// `helm plugin install DIR` (development mode, no signature).
func helm4Run(t *testing.T) helmRun {
	helm := testenv.Helm4(t) // first: a test that skips builds no binary
	env := helmEnv(t)
	dir := filepath.Join(t.TempDir(), "peruser")
	// The path platformCommand selects for this platform, as `make helm4-plugin` builds it.
	testenv.Install(t, postRendererBinary(t), filepath.Join(dir, "bin", runtime.GOOS+"-"+runtime.GOARCH, "post-renderer"))
	manifest, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "plugins", "helm4", "peruser", "plugin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "plugin.yaml"), manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := runCmd(t, env, "", helm, "plugin", "install", dir)
	if err != nil || !strings.Contains(stdout, "Installed plugin: peruser") {
		t.Fatalf("helm plugin install: %v\n%s%s", err, stdout, stderr)
	}
	return helmRun{name: "helm4", helm: helm, env: env, renderer: "peruser", hooksHardened: true}
}

func (r helmRun) template(t *testing.T, chart string, extra []string, rendererArgs ...string) (string, string, error) {
	args := append([]string{"template", "rel", chartDir(chart)}, extra...)
	if rendererArgs != nil {
		args = append(args, "--post-renderer", r.renderer)
		args = append(args, postRendererArgs(rendererArgs...)...)
	}
	return runCmd(t, r.env, "", r.helm, args...)
}

// TestHelm renders both fixture charts with the real Helm 3 and Helm 4 and the
// post-renderer, and checks the result against a plain render of the same chart.
func TestHelm(t *testing.T) {
	t.Parallel() // waits on its own tools and processes; runs beside the package's other parallel tests
	for _, mk := range []func(*testing.T) helmRun{helm3Run, helm4Run} {
		r := mk(t)
		for _, chart := range []string{"webapp", "hpc-suite"} {
			t.Run(r.name+"/"+chart, func(t *testing.T) {
				plainOut, stderr, err := r.template(t, chart, nil)
				if err != nil {
					t.Fatalf("plain helm template: %v\n%s", err, stderr)
				}
				out, stderr, err := r.template(t, chart, nil, identityArgs...)
				if err != nil {
					t.Fatalf("helm template --post-renderer: %v\n%s", err, stderr)
				}
				checkHelmOutput(t, r, plainOut, out)
			})
		}
	}
}

func checkHelmOutput(t *testing.T, r helmRun, plainOut, out string) {
	t.Helper()
	plain, hardened := parseStream(t, plainOut), parseStream(t, out)
	// Documents in = documents out, in the same order.
	if len(plain) != len(hardened) {
		t.Fatalf("documents: plain %d, hardened %d", len(plain), len(hardened))
	}
	for i := range plain {
		if plain[i].kind != hardened[i].kind || plain[i].name != hardened[i].name {
			t.Errorf("document %d: %s/%s became %s/%s", i+1, plain[i].kind, plain[i].name, hardened[i].kind, hardened[i].name)
		}
	}
	if a, b := strings.Count(plainOut, "# Source: "), strings.Count(out, "# Source: "); a != b {
		t.Errorf("# Source: comments: plain %d, hardened %d", a, b)
	}
	if strings.Contains(out, harden.HelmFilenameAnnotation) || strings.Contains(out, "generated-by-postrender") {
		t.Errorf("Helm 4's filename annotation was lost or leaked:\n%s", out)
	}
	plainTemplates := podTemplates(t, plain)
	templates := podTemplates(t, hardened)
	if len(templates) == 0 {
		t.Fatal("no pod templates in the output")
	}
	for i, o := range hardened {
		key := o.kind + "/" + o.name
		tpl, isWorkload := templates[key]
		if !isWorkload {
			// No pod template: the object is exactly what the chart rendered (a CRD whose
			// schema describes containers included).
			if got, want := o.node.MustString(), plain[i].node.MustString(); got != want {
				t.Errorf("%s changed although it holds no pod template:\n%s", key, got)
			}
			continue
		}
		hook := o.node.GetAnnotations()["helm.sh/hook"] != ""
		if hook && !r.hooksHardened {
			// The Helm 3 limitation: hooks never reach the post-renderer.
			if runsAs(tpl, 20001, 20001) {
				t.Errorf("%s is a hook: Helm 3 should not have post-rendered it", key)
			}
			if !equalJSON(t, tpl, plainTemplates[key]) {
				t.Errorf("%s is a hook and should be left as the chart rendered it", key)
			}
			continue
		}
		if !runsAs(tpl, 20001, 20001) {
			t.Errorf("%s does not run as 20001:20001: %+v", key, tpl.Spec.SecurityContext)
		}
		want := r.groups
		if want == nil {
			want = []int64{30001}
		}
		if sg := tpl.Spec.SecurityContext.SupplementalGroups; !slices.Equal(sg, want) {
			t.Errorf("%s supplementalGroups = %v, want %v", key, sg, want)
		}
		if v := restrictedVerdict(tpl); v != "" {
			t.Errorf("%s is rejected by Pod Security restricted: %s", key, v)
		}
	}
}

// TestHelmErrors: what cannot be made safe fails the Helm command, naming the template
// file, the object and the field; a site exception lets it through.
func TestHelmErrors(t *testing.T) {
	t.Parallel() // waits on its own tools and processes; runs beside the package's other parallel tests
	for _, mk := range []func(*testing.T) helmRun{helm3Run, helm4Run} {
		r := mk(t)
		t.Run(r.name, func(t *testing.T) {
			_, stderr, err := r.template(t, "hpc-suite", []string{"--set", "agent.hostPath.enabled=true", "--set", "agent.hostNetwork=true"}, identityArgs...)
			if err == nil {
				t.Fatal("helm template succeeded with a hostPath volume and hostNetwork")
			}
			contains(t, "stderr", stderr,
				"hpc-suite/templates/daemonset.yaml: DaemonSet/rel-agent: spec.template.spec.hostNetwork: host namespaces are not allowed",
				"hpc-suite/templates/daemonset.yaml: DaemonSet/rel-agent: spec.template.spec.volumes[0].hostPath: hostPath \"/users/scratch\" is not allowed (allowed prefixes: none); allow it with --allow-host-path /users/scratch")

			out, stderr, err := r.template(t, "hpc-suite", []string{"--set", "agent.hostPath.enabled=true"},
				append(identityArgs, "--allow-host-path=/users/")...)
			if err != nil {
				t.Fatalf("with the /users/ exception: %v\n%s", err, stderr)
			}
			objs := parseStream(t, out)
			tpl := podTemplates(t, objs)["DaemonSet/rel-agent"]
			if len(tpl.Spec.Volumes) != 1 || tpl.Spec.Volumes[0].HostPath == nil || tpl.Spec.Volumes[0].HostPath.Path != "/users/scratch" {
				t.Fatalf("the allowed hostPath volume was not kept: %+v", tpl.Spec.Volumes)
			}
			// The exception is the only thing Pod Security still objects to.
			if v := restrictedVerdict(tpl); v != "restricted volume types" {
				t.Errorf("Pod Security verdict %q, want only the hostPath exception", v)
			}
		})
	}
}

func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	return mustJSON(t, a) == mustJSON(t, b)
}
