package postrender

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	// Defines -update, so that `go test ./... -update` runs in every package.
	_ "github.com/peruser-dev/peruser/internal/golden"
	"github.com/peruser-dev/peruser/internal/testenv"
)

// postRendererBinary is the real executable, built once for all tests of the package
// (testenv.Binary). Only tests that hand it to a real tool (Helm 3 and 4, kustomize)
// need it; they look the tool up first, so that a test that skips builds nothing. Every
// other test calls run.
func postRendererBinary(t *testing.T) string {
	t.Helper()
	return testenv.Binary(t, "./cmd/post-renderer")
}

// chartDir is a fixture chart by name, or the chart at an absolute path (a test's own).
func chartDir(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(testenv.RepoRoot(), "fixtures", "charts", name)
}

// helmEnv gives one Helm its own home, so Helm 3 and Helm 4 never share plugins (Helm 3
// warns about v1 plugin files) and nothing touches the user's real configuration.
// HELM_PLUGINS is set to the data home's plugins folder on purpose: Helm 4.3.1 installs
// local plugins there whatever HELM_PLUGINS says (helm/helm#32646).
func helmEnv(t *testing.T) []string {
	home := t.TempDir()
	data := filepath.Join(home, "data")
	return append(os.Environ(),
		"HOME="+home,
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+data,
		"HELM_PLUGINS="+filepath.Join(data, "plugins"),
	)
}

// runCmd runs a command and returns stdout, stderr and the error.
func runCmd(t *testing.T, env []string, dir, name string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env, cmd.Dir = env, dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// object is one document of a rendered stream.
type object struct {
	kind, name string
	node       *yaml.RNode
}

func parseStream(t *testing.T, s string) []object {
	t.Helper()
	nodes, err := kio.FromBytes([]byte(s))
	if err != nil {
		t.Fatalf("output does not parse: %v\n%s", err, s)
	}
	out := make([]object, len(nodes))
	for i, n := range nodes {
		out[i] = object{kind: n.GetKind(), name: n.GetName(), node: n}
	}
	return out
}

// podTemplates decodes the pod templates of the workloads in objs into the API types,
// independently of package harden: through the typed objects of k8s.io/api.
func podTemplates(t *testing.T, objs []object) map[string]corev1.PodTemplateSpec {
	t.Helper()
	out := map[string]corev1.PodTemplateSpec{}
	for _, o := range objs {
		js, err := o.node.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		key := o.kind + "/" + o.name
		decode := func(v any) {
			if err := json.Unmarshal(js, v); err != nil {
				t.Fatalf("%s: %v", key, err)
			}
		}
		switch o.kind {
		case "Pod":
			var p corev1.Pod
			decode(&p)
			out[key] = corev1.PodTemplateSpec{ObjectMeta: p.ObjectMeta, Spec: p.Spec}
		case "Deployment":
			var d appsv1.Deployment
			decode(&d)
			out[key] = d.Spec.Template
		case "StatefulSet":
			var s appsv1.StatefulSet
			decode(&s)
			out[key] = s.Spec.Template
		case "DaemonSet":
			var d appsv1.DaemonSet
			decode(&d)
			out[key] = d.Spec.Template
		case "Job":
			var j batchv1.Job
			decode(&j)
			out[key] = j.Spec.Template
		case "CronJob":
			var c batchv1.CronJob
			decode(&c)
			out[key] = c.Spec.JobTemplate.Spec.Template
		case "Rollout":
			var r struct {
				Spec struct {
					Template corev1.PodTemplateSpec `json:"template"`
				} `json:"spec"`
			}
			decode(&r)
			out[key] = r.Spec.Template
		}
	}
	return out
}

var evaluator = func() policy.Evaluator {
	ev, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		panic(err)
	}
	return ev
}()

// restrictedVerdict returns "" when Pod Security "restricted" (latest) admits the
// template, else its reasons.
func restrictedVerdict(tpl corev1.PodTemplateSpec) string {
	meta := tpl.ObjectMeta
	lv := psaapi.LevelVersion{Level: psaapi.LevelRestricted, Version: psaapi.LatestVersion()}
	agg := policy.AggregateCheckResults(evaluator.EvaluatePod(lv, &meta, &tpl.Spec))
	if agg.Allowed {
		return ""
	}
	return strings.Join(agg.ForbiddenReasons, ", ")
}

// runsAs reports whether a template's pod-level identity is uid/gid and no container
// overrides it.
func runsAs(tpl corev1.PodTemplateSpec, uid, gid int64) bool {
	sc := tpl.Spec.SecurityContext
	if sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != uid || sc.RunAsGroup == nil || *sc.RunAsGroup != gid ||
		sc.FSGroup == nil || *sc.FSGroup != gid {
		return false
	}
	for _, cs := range [][]corev1.Container{tpl.Spec.InitContainers, tpl.Spec.Containers} {
		for _, c := range cs {
			if c.SecurityContext != nil && (c.SecurityContext.RunAsUser != nil && *c.SecurityContext.RunAsUser != uid ||
				c.SecurityContext.RunAsGroup != nil && *c.SecurityContext.RunAsGroup != gid) {
				return false
			}
		}
	}
	return true
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// contains fails t for each of wants that got (the command's stdout, stderr, …: what)
// lacks.
func contains(t testing.TB, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}
