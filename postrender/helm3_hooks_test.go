package postrender

import (
	"os"
	"path/filepath"
	"testing"
)

// TestHelm3HooksNotPostRendered shows the Helm 3 gap on a minimal chart: Helm 3 splits
// hooks off before it runs the post-renderer, so the pre-install hook Pod stays exactly as
// the chart wrote it while the regular Pod is hardened. `helm template` prints both (hooks
// included) and is what shows the gap without a cluster: `helm install --dry-run=client`
// still asks the API server for its version. TestHelm checks the same on the webapp chart.
func TestHelm3HooksNotPostRendered(t *testing.T) {
	t.Parallel() // waits on its own tools and processes; runs beside the package's other parallel tests
	r := helm3Run(t)
	chart := t.TempDir()
	files := map[string]string{
		"Chart.yaml":          "apiVersion: v2\nname: hooked\nversion: 0.1.0\n",
		"templates/app.yaml":  "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  containers:\n  - name: app\n    image: busybox:1.36\n",
		"templates/hook.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: setup\n  annotations:\n    helm.sh/hook: pre-install\nspec:\n  containers:\n  - name: setup\n    image: busybox:1.36\n",
	}
	for name, text := range files {
		path := filepath.Join(chart, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, stderr, err := r.template(t, chart, nil, identityArgs...)
	if err != nil {
		t.Fatalf("helm template --post-renderer: %v\n%s", err, stderr)
	}
	templates := podTemplates(t, parseStream(t, out))
	hook, ok := templates["Pod/setup"]
	if !ok {
		t.Fatalf("the hook Pod is missing from helm template's output:\n%s", out)
	}
	if hook.Spec.SecurityContext != nil || hook.Spec.Containers[0].SecurityContext != nil {
		t.Errorf("the hook Pod was changed; Helm 3 should not post-render hooks:\n%s", out)
	}
	if app := templates["Pod/app"]; !runsAs(app, 20001, 20001) {
		t.Errorf("the regular Pod is not hardened:\n%s", out)
	}
}
