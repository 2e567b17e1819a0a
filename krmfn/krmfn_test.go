package krmfn_test

import (
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/internal/golden"
	"github.com/peruser-dev/peruser/internal/testenv"
)

// siteWithUsers is a small Site whose users can be listed in any order.
func siteWithUsers(users []string) string {
	return `apiVersion: peruser.dev/v1alpha1
kind: Site
metadata:
  name: order
spec:
  namespace: {naming: hashed} # Bob and '42' need the rule that names everyone
  profiles:
    default: {quota: {pods: 5}}
  users:
` + strings.Join(users, "\n") + "\n"
}

func TestRenderIsDeterministicAndOrderIndependent(t *testing.T) {
	users := []string{
		"    - {name: zed, uid: 1001, gid: 1001}",
		"    - {name: amy.b, uid: 1002, gid: 1002, groups: [{name: b, gid: 3002}, {name: a, gid: 3001}]}",
		"    - {name: Bob, uid: 1003, gid: 1003}",
		"    - {name: mia@example.edu, uid: 1004, gid: 1004}",
		"    - {name: '42', uid: 1005, gid: 1005}",
	}
	dir := t.TempDir()
	t.Chdir(dir)
	render := func(list []string) string {
		require.NoError(t, os.WriteFile("site.yaml", []byte(siteWithUsers(list)), 0o644))
		out, stderr, code := runCLI(t, nil, "render", "site.yaml")
		require.Equal(t, 0, code, stderr)
		return out
	}
	first := render(users)
	assert.Equal(t, first, render(users), "rendering twice must give the same bytes")
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 5; i++ {
		shuffled := append([]string(nil), users...)
		rng.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		assert.Equal(t, first, render(shuffled), "user order in the spec must not matter: %v", shuffled)
	}
	// Namespaces come out sorted, and no reader annotations leak.
	nodes, err := kio.FromBytes([]byte(first))
	require.NoError(t, err)
	var namespaces []string
	for _, n := range nodes {
		if n.GetKind() == "Namespace" {
			namespaces = append(namespaces, n.GetName())
		}
		assert.Equal(t, "peruser", n.GetLabels()["app.kubernetes.io/managed-by"], "%s/%s", n.GetKind(), n.GetName())
	}
	assert.IsIncreasing(t, namespaces)
	assert.Len(t, namespaces, 5)
	assert.NotContains(t, first, "config.kubernetes.io/index")
	assert.NotContains(t, first, "internal.config.kubernetes.io")
}

// TestFunctionModeKeepsItsConfigAndEmitsObjects: the config's item stays (kustomize
// drops it itself for its local-config annotation; kpt would delete the file without it).
func TestFunctionModeKeepsItsConfigAndEmitsObjects(t *testing.T) {
	t.Chdir(filepath.Join(testenv.RepoRoot(), "fixtures", "registry-file"))
	site, err := os.ReadFile(golden.ConfigFile)
	require.NoError(t, err)
	fc, err := yaml.Parse(string(site))
	require.NoError(t, err)
	// kustomize marks a generator's config local-config and sends it as the only item.
	require.NoError(t, fc.PipeE(yaml.SetAnnotation("config.kubernetes.io/local-config", "true")))
	require.NoError(t, fc.PipeE(yaml.SetAnnotation("config.kubernetes.io/function", "exec: {path: ./krm-fn}")))
	rl := framework.ResourceList{Items: []*yaml.RNode{fc.Copy()}, FunctionConfig: fc}
	var input strings.Builder
	require.NoError(t, (kio.ByteWriter{Writer: &input, WrappingKind: kio.ResourceListKind,
		WrappingAPIVersion: kio.ResourceListAPIVersion, FunctionConfig: fc}).Write(rl.Items))

	stdout, stderr, code := runCLIWithStdin(t, input.String())
	require.Equal(t, 0, code, stderr)
	out, err := (&kio.ByteReader{Reader: strings.NewReader(stdout)}).Read()
	require.NoError(t, err)
	var kinds []string
	for _, n := range out {
		kinds = append(kinds, n.GetKind())
	}
	assert.Equal(t, []string{"Site", "Namespace", "ServiceAccount", "Secret", "RoleBinding", "RoleBinding", "NetworkPolicy"}, kinds)
	assert.Equal(t, "true", out[0].GetAnnotations()["config.kubernetes.io/local-config"], "the config is kept as it came")
	out = out[1:]

	// The standalone render of the same site gives the same objects.
	rendered, stderr, code := runCLI(t, nil, "render", golden.ConfigFile)
	require.Equal(t, 0, code, stderr)
	want, err := kio.FromBytes([]byte(rendered))
	require.NoError(t, err)
	require.Len(t, out, len(want))
	for i := range want {
		clean := out[i].Copy()
		require.NoError(t, clean.PipeE(yaml.ClearAnnotation("config.kubernetes.io/index"), yaml.ClearAnnotation("internal.config.kubernetes.io/index")))
		assert.Equal(t, want[i].MustString(), clean.MustString())
	}
}

func TestFunctionModeRefusesOtherKinds(t *testing.T) {
	input := `apiVersion: config.kubernetes.io/v1
kind: ResourceList
items: []
functionConfig:
  apiVersion: v1
  kind: ConfigMap
  metadata: {name: not-a-site}
`
	stdout, stderr, code := runCLIWithStdin(t, input)
	assert.Equal(t, 1, code)
	assert.Contains(t, stdout, "severity: error", "the error is also a ResourceList result")
	assert.Contains(t, stderr, "krm-fn accepts only apiVersion: peruser.dev/v1alpha1, kind: Site")
}

// TestFunctionModeMalformedMetadata: a functionConfig or an item whose metadata (or its
// annotations or labels) is not a mapping is a message and exit 1, never an internal
// error (kyaml's getters index such a node as key/value pairs; the fuzzer found it).
func TestFunctionModeMalformedMetadata(t *testing.T) {
	const site = "{apiVersion: peruser.dev/v1alpha1, kind: Site, metadata: {name: s}, spec: {users: [{name: a, uid: 20001, gid: 20001}]}}"
	for _, tc := range []struct{ name, body, want string }{
		{"config metadata a sequence", "functionConfig: {apiVersion: peruser.dev/v1alpha1, kind: Site, metadata: [a]}", "metadata"},
		{"config annotations a sequence", "functionConfig: {apiVersion: peruser.dev/v1alpha1, kind: Site, metadata: {name: s, annotations: [a]}}", "metadata.annotations"},
		{"not a Site, metadata a sequence", "functionConfig:\n  0: 0\n  metadata:\n   -", "functionConfig is not a Site"},
		{"item labels a sequence", "functionConfig: " + site + "\nitems: [{apiVersion: v1, kind: ConfigMap, metadata: {name: c, labels: [a]}}]", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runCLIWithStdin(t, "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"+tc.body+"\n")
			assert.NotContains(t, stderr, "internal error")
			if tc.want == "" {
				assert.Equal(t, 0, code, stderr) // the item is passed through as it came
				assert.Contains(t, stdout, "labels: [a]")
				return
			}
			assert.Equal(t, 1, code, stderr)
			assert.Contains(t, stderr, tc.want)
		})
	}
}

func TestFunctionModeErrorIsAlsoAResult(t *testing.T) {
	input := `apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: passthrough}
functionConfig:
  apiVersion: peruser.dev/v1alpha1
  kind: Site
  metadata: {name: broken}
  spec:
    users:
    - {name: oakley, uid: 0, gid: 20001}
`
	stdout, stderr, code := runCLIWithStdin(t, input)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "spec.users[0].uid: must be ≥ 1, got 0")
	// stdout is the input unchanged plus the error as results: never a generated object.
	var rl struct {
		Items   []map[string]any `json:"items"`
		Results []struct {
			Message  string `json:"message"`
			Severity string `json:"severity"`
			Field    struct {
				Path string `json:"path"`
			} `json:"field"`
			ResourceRef struct { // yaml.v3 reads yaml tags
				Kind string `json:"kind"`
				Name string `json:"name"`
			} `json:"resourceRef" yaml:"resourceRef"`
		} `json:"results"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(stdout), &rl), stdout)
	require.Len(t, rl.Items, 1)
	assert.Equal(t, "ConfigMap", rl.Items[0]["kind"])
	require.Len(t, rl.Results, 1)
	assert.Equal(t, "error", rl.Results[0].Severity)
	assert.Equal(t, "spec.users[0].uid", rl.Results[0].Field.Path)
	assert.Equal(t, "must be ≥ 1, got 0", rl.Results[0].Message)
	assert.Equal(t, "broken", rl.Results[0].ResourceRef.Name)
}

func TestSecretsNeverPrinted(t *testing.T) {
	t.Chdir(filepath.Join(testenv.RepoRoot(), "fixtures", "error-bad-docker-config"))
	content, err := os.ReadFile("registry.json")
	require.NoError(t, err)
	stdout, stderr, code := runCLI(t, nil, "render", golden.ConfigFile)
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "spec.registry.dockerConfigJSONFile: registry.json: not a docker config")
	assert.NotContains(t, stderr, "c2VjcmV0LXRoYXQtbXVzdC1ub3QtbGVhaw")
	assert.NotContains(t, stderr, strings.TrimSpace(string(content)))

	// A syntax error is located by offset, not quoted.
	dir := t.TempDir()
	t.Chdir(dir)
	require.NoError(t, os.WriteFile("registry.json", []byte(`{"auths": hunter2-password}`), 0o600))
	require.NoError(t, os.WriteFile("site.yaml", []byte(`apiVersion: peruser.dev/v1alpha1
kind: Site
metadata: {name: s}
spec:
  registry: {dockerConfigJSONFile: registry.json}
  users: [{name: oakley, uid: 20001, gid: 20001}]
`), 0o644))
	stdout, stderr, code = runCLI(t, nil, "render", "site.yaml")
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "not valid JSON (syntax error at byte")
	assert.NotContains(t, stderr, "hunter2")
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"render without file", []string{"render"}, 2, "render: SITE.yaml is required"},
		{"missing site file", []string{"render", "/nonexistent/site.yaml"}, 1, "reading site: open /nonexistent/site.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, nil, tt.args...)
			assert.Equal(t, tt.code, code)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, tt.contains)
		})
	}
	stdout, _, code := runCLI(t, nil, "version")
	assert.Equal(t, 0, code)
	assert.Contains(t, stdout, "krm-fn ")
	assert.Contains(t, stdout, "peruser.dev/v1alpha1")
	stdout, _, code = runCLI(t, nil, "help")
	assert.Equal(t, 0, code)
	assert.Contains(t, stdout, "krm-fn render SITE.yaml")
}

func TestInstallCopiesTheExecutable(t *testing.T) {
	bin := krmFn(t)
	dest := t.TempDir()
	out, err := exec.Command(bin, "install", dest).CombinedOutput()
	require.NoError(t, err, string(out))
	got, err := exec.Command(filepath.Join(dest, "krm-fn"), "help").Output()
	require.NoError(t, err)
	assert.Contains(t, string(got), "krm-fn render SITE.yaml")
}
