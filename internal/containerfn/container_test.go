package containerfn_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peruser-dev/peruser/internal/containerfn"
	"github.com/peruser-dev/peruser/internal/slapdtest"
	"github.com/peruser-dev/peruser/internal/testenv"

	// Defines -update, so that `go test ./... -update` runs in every package.
	_ "github.com/peruser-dev/peruser/internal/golden"
)

const image = "localhost/peruser-krm-fn:test"

// TestContainerFunction builds the image once (vfs storage is slow) with buildah from
// krm-fn built for the test and runs it through the real kustomize in container mode, with a `docker`
// shim on PATH that execs podman: kustomize (kyaml fn/runtime/container) runs
// `docker run --rm -i -a STDIN -a STDOUT -a STDERR --network none|host --user nobody
// --security-opt=no-new-privileges [--mount type=bind,source=ABS,target=DST,readonly] IMAGE`.
func TestContainerFunction(t *testing.T) {
	fn := setup(t)
	root, kustomize, env := testenv.RepoRoot(), fn.kustomize, fn.env
	site, err := os.ReadFile(filepath.Join(root, "examples", "site.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	exampleDir := func(t *testing.T, edit func(string) string) string {
		dir := t.TempDir()
		copyFile(t, filepath.Join(root, "examples", "registry.json"), filepath.Join(dir, "examples", "registry.json"))
		writeFile(t, filepath.Join(dir, "site.yaml"), edit(string(site)))
		writeFile(t, filepath.Join(dir, "kustomization.yaml"), "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\ngenerators:\n  - site.yaml\n")
		return dir
	}
	// The example site as a container function: the registry file through a bind mount
	// (src relative to the kustomization, dst absolute in the container, whose working
	// directory is / — relative site paths would not resolve).
	toContainer := func(s string) string {
		s = strings.Replace(s, "      exec:\n        path: ./bin/krm-fn\n",
			"      container:\n        image: "+image+"\n        mounts:\n"+
				"          - {type: bind, src: ./examples, dst: /site/examples}\n", 1)
		return strings.Replace(s, "dockerConfigJSONFile: examples/registry.json", "dockerConfigJSONFile: /site/examples/registry.json", 1)
	}

	t.Run("example site matches exec mode byte for byte", func(t *testing.T) {
		want := run(t, kustomize, testenv.ExampleTree(t, fn.krmFn), os.Environ(), "build", "--enable-alpha-plugins", "--enable-exec", ".")
		if want.err != nil {
			t.Fatalf("exec mode: %v\n%s", want.err, want.stderr)
		}
		dir := exampleDir(t, toContainer)
		start := time.Now()
		got := run(t, kustomize, dir, env, "build", "--enable-alpha-plugins", ".")
		if got.err != nil {
			t.Fatalf("container mode: %v\n%s", got.err, got.stderr)
		}
		t.Logf("container render in %s", time.Since(start).Round(time.Millisecond))
		if !bytes.Equal(got.stdout, want.stdout) {
			t.Fatalf("container output (%d bytes) differs from exec output (%d bytes)\n--- container\n%s", len(got.stdout), len(want.stdout), got.stdout)
		}
		if !bytes.Contains(got.stdout, []byte("kind: Secret")) {
			t.Fatal("no pull Secret: the mounted registry file was not read")
		}
	})

	t.Run("bad site exits non-zero with the message", func(t *testing.T) {
		dir := exampleDir(t, func(s string) string {
			return strings.Replace(toContainer(s), "uid: 20002", "uid: 0", 1)
		})
		got := run(t, kustomize, dir, env, "build", "--enable-alpha-plugins", ".")
		if got.err == nil {
			t.Fatalf("kustomize succeeded on a bad site:\n%s", got.stdout)
		}
		if msg := "spec.users[1].uid: must be ≥ 1, got 0"; !strings.Contains(string(got.stderr), msg) {
			t.Fatalf("kustomize's output does not show %q:\n%s", msg, got.stderr)
		}
	})

	t.Run("unmounted file is named", func(t *testing.T) {
		dir := exampleDir(t, func(s string) string {
			return strings.Replace(toContainer(s), "          - {type: bind, src: ./examples, dst: /site/examples}\n", "", 1)
		})
		got := run(t, kustomize, dir, env, "build", "--enable-alpha-plugins", ".")
		if got.err == nil || !strings.Contains(string(got.stderr), "/site/examples/registry.json") {
			t.Fatalf("want an error naming the unmounted file, got %v:\n%s", got.err, got.stderr)
		}
	})

	t.Run("live LDAP through the host network", func(t *testing.T) { liveLDAP(t, fn) })
}

// liveLDAP resolves users from a slapd on 127.0.0.1 in container mode: `network: true`
// in the annotation plus kustomize's --network flag make kyaml pass `--network host`,
// so 127.0.0.1 in the container is the host's; the CA file comes through a bind mount
// at an absolute path and the bind password through `envs`. It shares
// TestContainerFunction's image: building one takes seconds.
func liveLDAP(t *testing.T, fn fn) {
	s := slapdtest.Start(t, slapdtest.Options{LDIFFiles: []string{slapdtest.Fixture("directory.ldif")}})
	dir := t.TempDir()
	// The function runs as nobody: a mounted file must be readable by others (slapdtest
	// writes its CA 0600, which fails with "permission denied").
	copyFile(t, s.CAFile, filepath.Join(dir, "ldap", "ca.pem"))
	if err := os.Chmod(filepath.Join(dir, "ldap", "ca.pem"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "kustomization.yaml"), "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\ngenerators:\n  - site.yaml\n")
	writeFile(t, filepath.Join(dir, "site.yaml"), `apiVersion: peruser.dev/v1alpha1
kind: Site
metadata:
  name: ldap-site
  annotations:
    config.kubernetes.io/function: |
      container:
        image: `+image+`
        network: true
        envs: [LDAP_PASSWORD]
        mounts:
          - {type: bind, src: ./ldap, dst: /site/ldap}
spec:
  directory:
    url: `+s.LDAPSURL+`
    caFile: /site/ldap/ca.pem
    bindDN: "`+s.RootDN+`"
    bindPasswordEnv: LDAP_PASSWORD
    users: {baseDN: "ou=People,`+slapdtest.DefaultSuffix+`"}
    groups: {baseDN: "ou=Groups,`+slapdtest.DefaultSuffix+`"}
  profiles:
    default: {quota: {pods: "10"}}
    staff: {groups: [lsst-staff], quota: {pods: "40"}}
  namespace: {naming: hashed}
`)
	env := append(fn.env, "LDAP_PASSWORD="+slapdtest.RootPassword)
	got := run(t, fn.kustomize, dir, env, "build", "--enable-alpha-plugins", "--network", ".")
	if got.err != nil {
		t.Fatalf("container mode with network: %v\n%s", got.err, got.stderr)
	}
	if !bytes.Contains(got.stdout, []byte("kind: Namespace")) || !bytes.Contains(got.stdout, []byte("oakley")) {
		t.Fatalf("no user namespaces from the directory:\n%s", got.stdout)
	}
	if bytes.Contains(got.stdout, []byte(slapdtest.RootPassword)) || bytes.Contains(got.stderr, []byte(slapdtest.RootPassword)) {
		t.Fatal("the bind password leaked into kustomize's output")
	}
}

// fn is a built image and the environment whose PATH finds the docker shim.
type fn struct {
	kustomize string
	krmFn     string // the executable in the image
	env       []string
}

// setup builds the image into storage of its own under t.TempDir (about a second: the
// image is two small files and a binary) and writes the docker shim.
func setup(t *testing.T) fn {
	t.Helper()
	root := testenv.RepoRoot()
	kustomize := testenv.Kustomize(t)
	buildah := testenv.Tool(t, "BUILDAH", "buildah")
	podman := testenv.Tool(t, "PODMAN", "podman")
	if testenv.Find("RUNC", "runc") == "" {
		testenv.Missing(t, "runc not found (podman here needs --runtime runc: crun lacks CAP_SYS_RESOURCE): apt-get install runc")
	}
	krmFn := testenv.Binary(t, "./cmd/krm-fn")

	// Not t.TempDir: podman refuses a runroot longer than 50 characters.
	store, err := os.MkdirTemp("", "pcfn")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(store) })
	storage := []string{"--root", filepath.Join(store, "root"), "--runroot", filepath.Join(store, "run"), "--storage-driver", "vfs"}

	// Build context: the static binary and deploy/container/{passwd,group}.
	ctx := filepath.Join(store, "ctx")
	copyFile(t, krmFn, filepath.Join(ctx, "krm-fn"))
	for _, f := range []string{"passwd", "group"} {
		copyFile(t, filepath.Join(root, containerfn.PasswdDir, f), filepath.Join(ctx, containerfn.PasswdDir, f))
	}
	writeFile(t, filepath.Join(ctx, "Containerfile"), containerfn.Containerfile("krm-fn"))
	start := time.Now()
	build := exec.Command(buildah, append(storage, "bud", "--isolation", "chroot", "-f", "Containerfile", "-t", image, ".")...)
	build.Dir = ctx
	if out, err := build.CombinedOutput(); err != nil {
		testenv.Missing(t, "buildah cannot build a FROM scratch image on this machine: %v\n%s", err, out)
	}
	t.Logf("image built in %s", time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		// vfs layers are plain directories; podman's own reset also unmounts anything left.
		_ = exec.Command(podman, append(storage, "system", "reset", "--force")...).Run()
	})

	// The docker shim: podman's global flags, then the run flags this kind of machine needs.
	shimDir := filepath.Join(store, "shim")
	writeFile(t, filepath.Join(shimDir, "docker"), "#!/bin/sh\ncmd=$1; shift\nexec "+podman+" "+strings.Join(storage, " ")+
		" --cgroup-manager cgroupfs --runtime runc --events-backend file \"$cmd\" --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \"$@\"\n")
	if err := os.Chmod(filepath.Join(shimDir, "docker"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "PATH="+shimDir+string(os.PathListSeparator)+os.Getenv("PATH"))

	return fn{kustomize, krmFn, env}
}

type result struct {
	stdout, stderr []byte
	err            error
}

func run(t *testing.T, bin, dir string, env []string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, &stdout, &stderr
	err := cmd.Run()
	return result{stdout.Bytes(), stderr.Bytes(), err}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dst, string(b))
	st, _ := os.Stat(src)
	if err := os.Chmod(dst, st.Mode().Perm()); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
