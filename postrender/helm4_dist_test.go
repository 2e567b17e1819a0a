package postrender

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/peruser-dev/peruser/internal/testenv"
)

// TestHelm4PluginArchive packages the plugin as `make helm4-plugin-dist` does (for this
// platform only, to keep the test short), checks that the archive is deterministic,
// installs it with the real Helm 4 as a user would install a release download, and
// post-renders a chart through the installed plugin.
func TestHelm4PluginArchive(t *testing.T) {
	t.Parallel() // waits on its own tools and processes; runs beside the package's other parallel tests
	helm := testenv.Helm4(t)
	platform := runtime.GOOS + "/" + runtime.GOARCH
	out, stderr, err := runCmd(t, nil, "", filepath.Join(testenv.RepoRoot(), "plugins", "helm4", "dist.sh"),
		filepath.Join(testenv.CacheDir(t), "helm4-dist"), platform)
	if err != nil {
		t.Fatalf("dist.sh: %v\n%s%s", err, out, stderr)
	}
	archive := strings.TrimSpace(out)
	if filepath.Base(archive) != "peruser-0.1.0.tgz" {
		t.Errorf("archive %s, want peruser-VERSION.tgz", archive)
	}
	names := archiveHeaders(t, archive)
	want := []string{"peruser/", "peruser/bin/", "peruser/bin/" + runtime.GOOS + "-" + runtime.GOARCH + "/",
		"peruser/bin/" + runtime.GOOS + "-" + runtime.GOARCH + "/post-renderer", "peruser/plugin.yaml"}
	if !slices.Equal(names, want) {
		t.Errorf("archive entries %q, want %q", names, want)
	}

	env := helmEnv(t)
	// An unsigned archive: Helm 4 verifies local .tgz files unless told not to.
	out, stderr, err = runCmd(t, env, "", helm, "plugin", "install", archive)
	if err == nil || !strings.Contains(stderr, "no provenance file (.prov) found") {
		t.Errorf("installing the unsigned archive without --verify=false: err %v, want a refusal for lack of a .prov\n%s%s", err, out, stderr)
	}
	out, stderr, err = runCmd(t, env, "", helm, "plugin", "install", archive, "--verify=false")
	if err != nil || !strings.Contains(out, "Installed plugin: peruser") {
		t.Fatalf("helm plugin install ARCHIVE --verify=false: %v\n%s%s", err, out, stderr)
	}
	r := helmRun{name: "helm4-archive", helm: helm, env: env, renderer: "peruser", hooksHardened: true}
	plainOut, stderr, err := r.template(t, "webapp", nil)
	if err != nil {
		t.Fatalf("plain helm template: %v\n%s", err, stderr)
	}
	hardened, stderr, err := r.template(t, "webapp", nil, identityArgs...)
	if err != nil {
		t.Fatalf("helm template --post-renderer peruser: %v\n%s", err, stderr)
	}
	checkHelmOutput(t, r, plainOut, hardened)
}

// archiveHeaders returns the entry names of a .tgz and checks what makes it
// reproducible: no gzip name or time, mtime 0, owner 0:0.
func archiveHeaders(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("gzip header has name %q, time %v; want neither", zr.Name, zr.ModTime)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.ModTime.Unix() != 0 || h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: mtime %v, owner %d:%d (%q:%q); want 0, 0:0", h.Name, h.ModTime, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		names = append(names, h.Name)
	}
	return names
}
