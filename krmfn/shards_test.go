package krmfn_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/internal/sitegen"
	"github.com/peruser-dev/peruser/internal/streamtest"
	"github.com/peruser-dev/peruser/internal/testenv"
)

// shardRepo is a git checkout as a site keeps it: bin/krm-fn, site/site.yaml (sharded,
// an exec function annotation relative to site/) and its registry file.
type shardRepo struct {
	root, bin string
	kustomize string // builds the part folders
}

const shardedSiteYAML = `apiVersion: peruser.dev/v1alpha1
kind: Site
metadata:
  name: sharded
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: ../bin/krm-fn
spec:
  sharding:
    shards: %d
  namespace: {naming: hashed}   # the users below include uppercase names
  rbac: {clusterRoles: true}
  admission: {validatingAdmissionPolicy: true}
  registry: {dockerConfigJSONFile: registry.json}
  storage: {nfs: {server: nfs.example.edu, path: "/home/{user}"}, capacity: 10Gi}
  profiles:
    default: {quota: {requests.cpu: "4", requests.storage: 100Gi, pods: "20"}}
  users:
%s`

func siteUsers(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		name := []string{"user%03d", "first.last%03d", "u%03d@example.edu", "Upper%03d"}[i%4]
		fmt.Fprintf(&b, "    - {name: %q, uid: %d, gid: %d}\n", fmt.Sprintf(name, i), 20000+i, 20000+i)
	}
	return b.String()
}

func newShardRepo(t *testing.T, kustomize, bin string, shards int) shardRepo {
	t.Helper()
	root := t.TempDir()
	testenv.Install(t, bin, filepath.Join(root, "bin", "krm-fn"))
	r := shardRepo{root: root, bin: filepath.Join(root, "bin", "krm-fn"), kustomize: kustomize}
	r.writeSite(t, shards)
	require.NoError(t, os.WriteFile(filepath.Join(root, "site", "registry.json"), []byte(sitegen.DockerConfig), 0o600))
	return r
}

func (r shardRepo) writeSite(t *testing.T, shards int) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Join(r.root, "site"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(r.root, "site", "site.yaml"), []byte(fmt.Sprintf(shardedSiteYAML, shards, siteUsers(40))), 0o644))
}

// krmfn runs the real binary in dir with exactly env (no inherited environment).
func (r shardRepo) krmfn(t *testing.T, dir string, env []string, args ...string) (string, string, int) {
	t.Helper()
	return runIn(t, dir, env, r.bin, args...)
}

func runIn(t *testing.T, dir string, env []string, name string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s: %v", name, err)
	}
	return out.String(), errb.String(), code
}

// TestShardLayout writes a layout with `krm-fn shards` and builds every part folder with
// the real kustomize: the parts together are exactly the unsharded render, object for
// object, byte for byte; writing the layout twice gives the same files.
func TestShardLayout(t *testing.T) {
	t.Parallel() // waits on its own servers and processes; runs beside the package's other parallel tests
	kustomize := testenv.Kustomize(t)
	r := newShardRepo(t, kustomize, krmFn(t), 3)
	args := []string{"shards", "--repo-url", "https://git.example.edu/hpc/site-config.git",
		"--oci-url", "oci://registry.example.edu/peruser/sharded", "site/site.yaml", "site/layout"}
	_, stderr, code := r.krmfn(t, r.root, nil, args...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "site sharded: 40 users in 3 shards")
	first := readTree(t, filepath.Join(r.root, "site", "layout"))
	_, stderr, code = r.krmfn(t, r.root, nil, args...)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, first, readTree(t, filepath.Join(r.root, "site", "layout")), "a second run wrote other bytes")

	// A Site's relative paths are read from the working directory (kustomize's: the
	// kustomization's folder), a SiteShard's Site's from the Site's folder.
	site := filepath.Join(r.root, "site")
	want, stderr, code := r.krmfn(t, site, nil, "render", "site.yaml")
	require.Equal(t, 0, code, stderr)
	whole := streamtest.Canonical(t, []byte(want))

	got := map[string]string{}
	for _, part := range []string{"site", "shard-000", "shard-001", "shard-002"} {
		out, stderr, err := kustomizeBuild(t, r.kustomize, filepath.Join(r.root, "site", "layout", "parts", part))
		require.NoError(t, err, "kustomize build of part %s: %s", part, stderr)
		objs := streamtest.Canonical(t, []byte(out))
		assert.NotEmpty(t, objs, part)
		for k, v := range objs {
			_, dup := got[k]
			require.False(t, dup, "%s is in two parts", k)
			got[k] = v
		}
		assert.NotContains(t, out, "SiteShard", "part %s emits its function config", part)
	}
	assert.Equal(t, whole, got, "the parts built by kustomize are not the whole site")

	var appSet map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(first["argocd/applicationset.yaml"]), &appSet))
	spec := appSet["spec"].(map[string]any)
	assert.Equal(t, true, spec["syncPolicy"].(map[string]any)["preserveResourcesOnDeletion"])
	gen := spec["generators"].([]any)[0].(map[string]any)["git"].(map[string]any)
	assert.Equal(t, "site/layout/parts/*", gen["directories"].([]any)[0].(map[string]any)["path"])
	tmpl := spec["template"].(map[string]any)["spec"].(map[string]any)
	assert.Equal(t, "peruser", tmpl["source"].(map[string]any)["plugin"].(map[string]any)["name"])
	assert.Equal(t, false, tmpl["syncPolicy"].(map[string]any)["automated"].(map[string]any)["allowEmpty"])
	assert.Equal(t, 4, strings.Count(first["flux/kustomizations.yaml"], "kind: Kustomization\n"))
	assert.Contains(t, first["flux/kustomizations.yaml"], "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository")

	// render --out-dir writes what Flux's Kustomizations point at: the same parts.
	_, stderr, code = r.krmfn(t, site, nil, "render", "--out-dir", "../rendered", "site.yaml")
	require.Equal(t, 0, code, stderr)
	split := map[string]string{}
	for name, content := range readTree(t, filepath.Join(r.root, "rendered")) {
		require.True(t, strings.HasSuffix(name, "/objects.yaml"), name)
		for k, v := range streamtest.Canonical(t, []byte(content)) {
			split[k] = v
		}
	}
	assert.Equal(t, whole, split)

	t.Run("bad input", func(t *testing.T) { shardBadInput(t, r) })
	t.Run("argocd plugin", func(t *testing.T) { argoCDPluginContract(t, r) })
}

// shardBadInput: every mistake is one error naming the file and field, exit 1, and
// nothing on stdout — under krm-fn render and under kustomize.
func shardBadInput(t *testing.T, r shardRepo) {
	layout := filepath.Join(r.root, "site", "layout", "parts")
	moved := filepath.Join(r.root, "site", "layout2", "parts", "shard-005")
	require.NoError(t, os.CopyFS(moved, os.DirFS(filepath.Join(layout, "shard-000"))))
	writeShard := func(t *testing.T, name, body string) string {
		dir := filepath.Join(r.root, "site", "bad", name)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		p := filepath.Join(dir, "peruser-shard.yaml")
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	shardDoc := func(siteFile, siteName, part string, shards int) string {
		return fmt.Sprintf("apiVersion: peruser.dev/v1alpha1\nkind: SiteShard\nmetadata: {name: x}\nspec:\n  siteFile: %s\n  siteName: %s\n  part: %q\n  shards: %d\n", siteFile, siteName, part, shards)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"part outside the site", []string{"render", "--part", "3", "site/site.yaml"}, "site/site.yaml: --part 3: shard 3 is outside 0…2"},
		{"negative part", []string{"render", "--part", "-1", "site/site.yaml"}, "--part"},
		{"part of an unsharded site", []string{"render", "--part", "site", "examples-unsharded.yaml"}, "not sharded"},
		{"missing site", []string{"render", writeShard(t, "shard-000", shardDoc("../../nope.yaml", "sharded", "0", 3))},
			"peruser-shard.yaml:5: spec.siteFile: cannot read the Site"},
		{"another site", []string{"render", writeShard(t, "shard-001", shardDoc("../../site.yaml", "other", "1", 3))},
			"peruser-shard.yaml:6: spec.siteName: is \"other\", but ../../site.yaml holds Site \"sharded\""},
		{"two folders claim one shard", []string{"render", filepath.Join(moved, "peruser-shard.yaml")},
			"spec.part: folder \"shard-005\" holds part 0, whose folder is \"shard-000\""},
		{"shard count below one", []string{"render", writeShard(t, "shard-002", shardDoc("../../site.yaml", "sharded", "0", 0))},
			"spec.shards"},
		{"part outside the layout", []string{"render", writeShard(t, "shard-009", shardDoc("../../site.yaml", "sharded", "9", 3))},
			"spec.part: shard 9 is outside 0…2"},
		{"shards without sharding", []string{"shards", "examples-unsharded.yaml", "out"}, "spec.sharding: not set"},
		{"stale layout", nil, "spec.shards: the layout was written for 3 shards, but the Site has spec.sharding.shards: 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(filepath.Join(r.root, "examples-unsharded.yaml"),
				[]byte("apiVersion: peruser.dev/v1alpha1\nkind: Site\nmetadata: {name: plain}\nspec:\n  users: [{name: a, uid: 2000, gid: 2000}]\n"), 0o644))
			args := tc.args
			if args == nil { // stale: the site now has 4 shards, the layout was written for 3
				r.writeSite(t, 4)
				t.Cleanup(func() { r.writeSite(t, 3) })
				args = []string{"render", filepath.Join(layout, "shard-001", "peruser-shard.yaml")}
				out, stderr, err := kustomizeBuild(t, r.kustomize, filepath.Join(layout, "shard-001"))
				assert.Error(t, err)
				assert.Empty(t, out)
				assert.Contains(t, stderr, tc.want, "under kustomize")
			}
			out, stderr, code := r.krmfn(t, r.root, nil, args...)
			assert.NotEqual(t, 0, code)
			assert.Empty(t, out)
			assert.Contains(t, stderr, tc.want)
			assert.NotContains(t, stderr, "goroutine")
		})
	}
}

// argoCDPluginContract runs deploy/argocd-cmp/plugin.yaml the way Argo CD's CMP server
// does (cmpserver/plugin: discover.fileName is a filepath.Glob in the Application's
// folder; generate is exec'd as an argv, no shell, in that folder, with the sidecar's
// environment plus ARGOCD_APP_* build variables, ARGOCD_ENV_* plugin env and PARAM_* /
// ARGOCD_APP_PARAMETERS; stdout must be only objects; a non-zero exit fails with stderr).
func argoCDPluginContract(t *testing.T, r shardRepo) {
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "deploy", "argocd-cmp", "plugin.yaml"))
	require.NoError(t, err)
	var plugin struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		Spec struct {
			Version  string `yaml:"version"`
			Generate struct {
				Command []string `yaml:"command"`
				Args    []string `yaml:"args"`
			} `yaml:"generate"`
			Discover struct {
				FileName string `yaml:"fileName"`
			} `yaml:"discover"`
		} `yaml:"spec"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &plugin))
	require.Equal(t, "ConfigManagementPlugin", plugin.Kind)
	require.Equal(t, "peruser", plugin.Metadata.Name, "Applications name the plugin peruser")
	require.Empty(t, plugin.Spec.Version, "a version would make the plugin's name peruser-<version>")
	require.NotEmpty(t, plugin.Spec.Generate.Command)

	// Argo CD sends the repository to the sidecar; the plugin works on its own copy.
	work := t.TempDir()
	require.NoError(t, os.CopyFS(work, os.DirFS(r.root)))
	discovered := func(app string) bool {
		m, err := filepath.Glob(filepath.Join(work, app, plugin.Spec.Discover.FileName))
		require.NoError(t, err)
		return len(m) > 0
	}
	assert.True(t, discovered("site/layout/parts/shard-001"))
	assert.True(t, discovered("site/layout/parts/site"))
	assert.False(t, discovered("site"), "an unsharded folder is not discovered")
	assert.False(t, discovered("."))

	// The sidecar: PATH holds krm-fn (/usr/local/bin in the image; here the test's bin).
	sidecar := []string{"PATH=" + filepath.Join(work, "bin"), "HOME=/home/argocd"}
	build := func(app string) []string {
		return append(sidecar, "ARGOCD_APP_NAME=sharded-"+filepath.Base(app), "ARGOCD_APP_NAMESPACE=argocd",
			"ARGOCD_APP_REVISION=0123456789abcdef", "ARGOCD_APP_SOURCE_PATH="+app,
			"ARGOCD_APP_SOURCE_REPO_URL=https://git.example.edu/hpc/site-config.git", "KUBE_VERSION=1.37")
	}
	generate := func(app string, env []string) (string, string, int) {
		argv := append(append([]string{}, plugin.Spec.Generate.Command...), plugin.Spec.Generate.Args...)
		path, err := exec.LookPath(filepath.Join(work, "bin", argv[0]))
		require.NoError(t, err, "the generate command %q is not on the sidecar's PATH", argv[0])
		return runIn(t, filepath.Join(work, app), env, path, argv[1:]...)
	}
	part := func(p string) string {
		out, stderr, code := r.krmfn(t, filepath.Join(r.root, "site"), nil, "render", "--part", p, "site.yaml")
		require.Equal(t, 0, code, stderr)
		return out
	}

	// A part folder: the SiteShard names everything.
	out, stderr, code := generate("site/layout/parts/shard-001", build("site/layout/parts/shard-001"))
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, part("1"), out)
	assert.Empty(t, stderr)

	// An unsharded Application on the site folder, with declared parameters as Argo CD
	// passes them (both forms), or the Application's plugin env.
	for name, env := range map[string][]string{
		"PARAM_":                {"PARAM_PART=site"},
		"ARGOCD_APP_PARAMETERS": {`ARGOCD_APP_PARAMETERS=[{"name":"part","string":"site"}]`},
		"ARGOCD_ENV_":           {"ARGOCD_ENV_PERUSER_PART=site"},
	} {
		out, stderr, code := generate("site", append(build("site"), env...))
		require.Equal(t, 0, code, "%s: %s", name, stderr)
		assert.Equal(t, part("site"), out, name)
	}
	out, stderr, code = generate("site", append(build("site"), `ARGOCD_APP_PARAMETERS=[{"name":"prat","string":"1"}]`))
	assert.NotEqual(t, 0, code)
	assert.Empty(t, out)
	assert.Contains(t, stderr, `plugin parameter "prat": unknown (accepted: config, part)`)

	// A broken site: non-zero, nothing on stdout, the file, line and field on stderr.
	broken := strings.Replace(fmt.Sprintf(shardedSiteYAML, 3, siteUsers(40)), "uid: 20001,", "uid: 0,", 1)
	require.NoError(t, os.WriteFile(filepath.Join(work, "site", "site.yaml"), []byte(broken), 0o644))
	out, stderr, code = generate("site/layout/parts/shard-001", build("site/layout/parts/shard-001"))
	assert.NotEqual(t, 0, code)
	assert.Empty(t, out, "a failed generate printed objects")
	assert.Contains(t, stderr, "site.yaml:21: spec.users[1].uid")
}

// TestArgoCDComponent builds deploy/argocd-cmp as a component over a minimal
// argocd-repo-server with the real kustomize: the sidecar and its ConfigMap appear.
func TestArgoCDComponent(t *testing.T) {
	t.Parallel() // waits on its own servers and processes; runs beside the package's other parallel tests
	kustomize := testenv.Kustomize(t)
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(dir, "argocd-cmp"), os.DirFS(filepath.Join(testenv.RepoRoot(), "deploy", "argocd-cmp"))))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "repo-server.yaml"), []byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: argocd-repo-server}
spec:
  selector: {matchLabels: {app: repo}}
  template:
    metadata: {labels: {app: repo}}
    spec:
      containers: [{name: argocd-repo-server, image: quay.io/argoproj/argocd:v3.2.0}]
      volumes: [{name: var-files, emptyDir: {}}, {name: plugins, emptyDir: {}}]
`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(
		"namespace: argocd\nresources: [repo-server.yaml]\ncomponents: [argocd-cmp]\n"), 0o644))
	out, stderr, err := kustomizeBuild(t, kustomize, dir)
	require.NoError(t, err, stderr)
	objs := streamtest.Objects(t, []byte(out))
	cm, ok := objs["ConfigMap/argocd/peruser-cmp-config"]
	require.True(t, ok, out)
	assert.Contains(t, cm, "kind: ConfigManagementPlugin")
	dep := objs["Deployment/argocd/argocd-repo-server"]
	for _, want := range []string{"name: peruser", "/var/run/argocd/argocd-cmp-server", "runAsUser: 999",
		"mountPath: /home/argocd/cmp-server/config/plugin.yaml", "name: argocd-repo-server"} {
		assert.Contains(t, dep, want)
	}
}

// readTree reads every file below dir, keyed by slash path relative to dir.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	}))
	return out
}
