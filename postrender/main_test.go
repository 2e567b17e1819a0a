package postrender

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peruser-dev/peruser/internal/env"
	"github.com/peruser-dev/peruser/internal/testenv"
)

func fixture(parts ...string) string {
	return filepath.Join(append([]string{testenv.RepoRoot(), "fixtures"}, parts...)...)
}

// TestCommandLine runs the command line as Helm 3 runs it: arguments, a stream on stdin.
func TestCommandLine(t *testing.T) {
	badConfig := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(badConfig, []byte("apiVersion: peruser.dev/v1alpha1\nkind: Hardening\nmetadata: {name: x}\nspec:\n  identity: {uid: 20001, gid: 20001}\n  exception: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A value the schema accepts and the spec's validation refuses: reported with the
	// file's line and the flag that would set it, once the flags are laid over the file.
	loopConfig := filepath.Join(t.TempDir(), "loop.yaml")
	if err := os.WriteFile(loopConfig, []byte("apiVersion: peruser.dev/v1alpha1\nkind: Hardening\nmetadata: {name: x}\nspec:\n  identity: {uid: 20001, gid: 20001}\n  registryRewrites:\n  - {from: docker.io, to: docker.io/mirror}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Values the spec's validation refuses, each replaced by a flag: the merged spec is
	// what is checked, so the run succeeds.
	shadowedConfig := filepath.Join(t.TempDir(), "shadowed.yaml")
	if err := os.WriteFile(shadowedConfig, []byte("apiVersion: peruser.dev/v1alpha1\nkind: Hardening\nmetadata: {name: x}\nspec:\n  identity: {uid: 20001, gid: 20001}\n  lifetime: 0s\n  labels: {team: \"bad value!\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A Hardening whose site has a reserved user: the error is about the site, and must
	// name the site's file and line, not the Hardening's.
	siteDir := t.TempDir()
	badSite := filepath.Join(siteDir, "site.yaml")
	siteConfig := filepath.Join(siteDir, "hardening.yaml")
	if err := os.WriteFile(badSite, []byte("apiVersion: peruser.dev/v1alpha1\nkind: Site\nmetadata: {name: s}\nspec:\n  namespace: {prefix: \"\"}\n  users:\n  - {name: oakley, uid: 20001, gid: 20001}\n  - {name: default, uid: 20002, gid: 20002}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	goodSite := filepath.Join(siteDir, "good-site.yaml")
	if err := os.WriteFile(goodSite, []byte("apiVersion: peruser.dev/v1alpha1\nkind: Site\nmetadata: {name: s}\nspec:\n  users:\n  - {name: oakley, uid: 20001, gid: 20001}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(siteConfig, []byte("apiVersion: peruser.dev/v1alpha1\nkind: Hardening\nmetadata: {name: x}\nspec:\n  identity: {site: site.yaml, user: oakley}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		stdin      string // a file under fixtures/, or literal text when it starts with "text:"
		wantCode   int
		wantStdout string   // a file under fixtures/ the output must equal
		stdoutHas  []string // substrings of stdout
		stderrHas  []string // substrings of stderr
		oneLine    bool     // stderr is exactly one line
		terminal   bool     // stdin pretends to be a terminal
	}{
		{
			name:  "identity flags give the library's golden output",
			args:  []string{"--uid=20001", "--gid", "20001", "--supplemental-groups", "30001,20001", "--supplemental-groups=30001"},
			stdin: "harden/helm3-webapp/input.yaml", wantStdout: "harden/helm3-webapp/expected.yaml",
		},
		{
			name:  "a Hardening file",
			args:  []string{"--config", fixture("harden", "helm3-hpc-suite", "config.yaml")},
			stdin: "harden/helm3-hpc-suite/input.yaml", wantStdout: "harden/helm3-hpc-suite/expected.yaml",
		},
		{
			name:  "flags override the file",
			args:  []string{"--config", fixture("harden", "helm3-hpc-suite", "config.yaml"), "--lifetime=2h", "--uid=20002", "--gid=20002"},
			stdin: "harden/helm3-hpc-suite/input.yaml", stdoutHas: []string{"pod.kubernetes.io/lifetime: 2h", "runAsUser: 20002", "peruser.dev/user: oakley"},
		},
		{
			name:  "all optional flags",
			args:  []string{"--uid=20001", "--gid=20001", "--lifetime=8h", "--label=job=nb-1", "--image-pull-secret=regcred", "--registry-rewrite=docker.io=registry.example.edu/hub", "--allow-host-path=/users/", "--allow-host-path=/fs/", "--allow-host-path=/apps", "--allow-volume-type=nfs", "-v"},
			stdin: "harden/exceptions/input.yaml", stdoutHas: []string{"job: nb-1", "- name: regcred", "registry.example.edu/hub/jupyter/scipy-notebook", "path: /users/PZS0001/oakley", "nfs:"},
			stderrHas: []string{"post-renderer: 1 documents, 1 hardened"},
		},
		{
			name: "verify can be turned off", args: []string{"--uid=20001", "--gid=20001", "--verify=false"},
			stdin: "harden/error-pod-security/input.yaml", stdoutHas: []string{"runAsUser: 20001"},
		},
		{
			name: "a site error names the site's file and line", args: []string{"--config", siteConfig}, stdin: "text:", wantCode: exitUsage,
			stderrHas: []string{badSite + ":8: spec.users[1]: user \"default\" maps to namespace \"default\", which is reserved"},
		},
		{
			name: "root is refused", args: []string{"--uid=0", "--gid=0"}, stdin: "text:", wantCode: exitUsage,
			stderrHas: []string{"--uid: must be between 1 and 2147483647, got 0 (uid 0 is root)", "--gid: must be between 1 and 2147483647, got 0"},
		},
		{
			// Regression: a uid the apiserver rejects used to be written with exit 0.
			name: "a uid above 2^31-1 is refused", args: []string{"--uid=3000000000", "--gid=20001"}, stdin: "text:", wantCode: exitUsage,
			stderrHas: []string{"--uid: must be between 1 and 2147483647, got 3000000000"},
		},
		{
			name: "a gid above 2^31-1 is refused", args: []string{"--uid=20001", "--gid=2147483648", "--supplemental-groups=4294967296"}, stdin: "text:", wantCode: exitUsage,
			stderrHas: []string{"--gid: must be between 1 and 2147483647, got 2147483648", "--supplemental-groups: must be between 1 and 2147483647, got 4294967296"},
		},
		{
			// Regression: a plain yes or on is a boolean to YAML 1.1 readers (kubectl, Helm).
			name: "label values YAML 1.1 reads as booleans are quoted", args: []string{"--uid=20001", "--gid=20001", "--label", "x=yes", "--label", "n=on"},
			stdin: "harden/helm3-webapp/input.yaml", stdoutHas: []string{`x: "yes"`, `"n": "on"`},
		},
		{
			name: "system groups are refused", args: []string{"--uid=20001", "--gid=20001", "--supplemental-groups=0"}, stdin: "text:", wantCode: exitUsage,
			stderrHas: []string{"--supplemental-groups: must be ≥ 1000, got 0"},
		},
		{
			name: "no identity", args: []string{"--lifetime=8h"}, stdin: "text:", wantCode: exitUsage,
			stderrHas: []string{"--uid/--gid/--site: give uid and gid"},
		},
		{
			name: "no arguments and no ResourceList", stdin: "harden/helm3-webapp/input.yaml", wantCode: exitUsage,
			stderrHas: []string{"no identity given: pass --uid and --gid, or --site with --user or --namespace"},
		},
		{
			name: "both identities", args: []string{"--uid=1000", "--site=site.yaml", "--user=oakley"}, stdin: "text:", wantCode: exitUsage,
			stderrHas: []string{"--site: give either uid/gid/supplementalGroups or site"},
		},
		{
			name: "a user without a site", args: []string{"--user=oakley"}, stdin: "text:", wantCode: exitUsage,
			stderrHas: []string{"--site: required with user or namespace"},
		},
		{
			name: "an unknown field in the file", args: []string{"--config", badConfig}, stdin: "text:", wantCode: exitUsage,
			stderrHas: []string{"bad.yaml:6: spec.exception: unknown field (accepted here: allowDowngrade, dropInitContainers, exceptions, identity, imagePullSecrets, labels, lifetime, podTemplatePaths, registryRewrites, verify)"},
		},
		{
			name: "a value error in the file names its line", args: []string{"--config", loopConfig}, stdin: "text:", wantCode: exitUsage,
			stderrHas: []string{`loop.yaml:7: spec.registryRewrites[0].to (--registry-rewrite): "docker.io/mirror" would be rewritten again by from "docker.io"`},
		},
		{
			name: "a value error in the file names its line when --site gives the identity", args: []string{"--config", loopConfig, "--site", goodSite, "--user", "oakley"}, stdin: "text:", wantCode: exitUsage,
			stderrHas: []string{`loop.yaml:7: spec.registryRewrites[0].to (--registry-rewrite): "docker.io/mirror" would be rewritten again by from "docker.io"`},
		},
		{
			name: "flags replace bad values of the file", args: []string{"--config", shadowedConfig, "--lifetime=8h", "--label=team=ok"},
			stdin: "text:apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: busybox}]\n", wantCode: 0,
			stdoutHas: []string{"pod.kubernetes.io/lifetime: 8h", "team: ok", "runAsUser: 20001"},
		},
		{
			name: "the same value by flag names the flag", args: []string{"--uid=20001", "--gid=20001", "--registry-rewrite=docker.io=docker.io/mirror"}, stdin: "text:", wantCode: exitUsage,
			stderrHas: []string{`post-renderer: --registry-rewrite: "docker.io/mirror" would be rewritten again by from "docker.io"`},
		},
		{
			name: "a flag's value error over a file names the field and the flag", args: []string{"--config", fixture("harden", "helm3-hpc-suite", "config.yaml"), "--lifetime=1d"}, stdin: "text:", wantCode: exitUsage,
			stderrHas: []string{`config.yaml: spec.lifetime (--lifetime): "1d" is not a Go duration such as 168h or 30m`},
		},
		{
			name: "a bad flag", args: []string{"--uid=x"}, stdin: "text:", wantCode: exitUsage,
			stderrHas: []string{`invalid value "x" for flag --uid`},
		},
		{
			name: "a stray argument", args: []string{"--uid=1000", "--gid=1000", "chart.yaml"}, stdin: "text:", wantCode: exitUsage,
			stderrHas: []string{`unexpected argument "chart.yaml"`},
		},
		{
			name: "what cannot be made safe", args: []string{"--uid=20001", "--gid=20001"}, stdin: "harden/error-unsafe/input.yaml", wantCode: exitUnsafe,
			stderrHas: []string{"post-renderer: 12 problem(s), nothing was written:",
				"agent/templates/daemonset.yaml: DaemonSet/agent: spec.template.spec.volumes[0].hostPath: hostPath \"/\" is not allowed (allowed prefixes: none); allow it with --allow-host-path /"},
		},
		// Containers that would break: refused by default; --drop-init-container and
		// --allow-downgrade (alone or over a --config file) are the ways out.
		{
			name: "root and privileged containers are refused", args: []string{"--uid=20001", "--gid=20001"}, stdin: "harden/error-downgrade/input.yaml", wantCode: exitUnsafe,
			stderrHas: strings.Split(strings.TrimSpace(string(readFixture(t, "harden/error-downgrade/errors.txt"))), "\n"),
		},
		{
			name:  "--drop-init-container, repeated",
			args:  []string{"--uid=20001", "--gid=20001", "--drop-init-container", "volume-permissions", "--drop-init-container=init-sysctl"},
			stdin: "harden/drop-init-containers/input.yaml", wantStdout: "harden/drop-init-containers/expected.yaml",
		},
		{
			name:  "dropInitContainers from the file",
			args:  []string{"--config", fixture("harden", "drop-init-containers", "config.yaml")},
			stdin: "harden/drop-init-containers/input.yaml", wantStdout: "harden/drop-init-containers/expected.yaml",
		},
		{
			name:  "--allow-downgrade rewrites them",
			args:  []string{"--uid=20001", "--gid=20001", "--allow-downgrade"},
			stdin: "harden/error-downgrade/input.yaml", stdoutHas: []string{"privileged: false", "runAsUser: 20001", "add: [NET_BIND_SERVICE]"},
		},
		{
			name:  "--allow-downgrade=false overrides the file",
			args:  []string{"--config", fixture("harden", "helm3-hpc-suite", "config.yaml"), "--allow-downgrade=false"},
			stdin: "harden/helm3-hpc-suite/input.yaml", wantCode: exitUnsafe,
			stderrHas: []string{`container "fix-permissions" runs as root (runAsUser: 0)`},
		},
		{
			name: "a name that is no container name", args: []string{"--uid=20001", "--gid=20001", "--drop-init-container", "Volume_Permissions"},
			stdin: "text:", wantCode: exitUsage, stderrHas: []string{`--drop-init-container: must be a container name (lowercase DNS label), got "Volume_Permissions"`},
		},
		{
			name: "invalid YAML", args: []string{"--uid=20001", "--gid=20001"}, stdin: "harden/error-invalid-yaml/input.yaml", wantCode: exitUnsafe,
			stderrHas: []string{"document 2 (line 7, chart/templates/broken.yaml): invalid YAML"},
		},
		{
			name: "no documents still answers (Helm 4 refuses empty output)", args: []string{"--uid=20001", "--gid=20001"}, stdin: "text:\n",
			stdoutHas: []string{"# peruser post-renderer: no documents\n"},
		},
		{
			name: "help", args: []string{"-h"}, stdin: "text:", stdoutHas: []string{"Usage: post-renderer", "\n  --allow-host-path STRING\n", "\n  --uid int\n", "\n  --verify\n", "(default true)", "\n  --supplemental-groups N,...\n"},
		},
		{
			name: "--help", args: []string{"--help"}, stdin: "text:", stdoutHas: []string{"Usage: post-renderer"},
		},
		{
			name: "help after other flags", args: []string{"--uid=20001", "--help"}, stdin: "text:", stdoutHas: []string{"Usage: post-renderer"},
		},
		{
			name: "krm help", args: []string{"krm", "--help"}, stdin: "text:", stdoutHas: []string{"Usage: post-renderer krm"},
		},
		{
			name: "krm -h", args: []string{"krm", "-h"}, stdin: "text:", stdoutHas: []string{"Usage: post-renderer krm"},
		},
		{
			name: "version", args: []string{"version"}, stdin: "text:", stdoutHas: []string{"post-renderer "},
		},
		{
			name: "--version", args: []string{"--version"}, stdin: "text:", stdoutHas: []string{"post-renderer "},
		},
		{
			name: "version takes no arguments", args: []string{"version", "x"}, stdin: "text:", wantCode: exitUsage,
			stderrHas: []string{`post-renderer version: takes no arguments, got ["x"]`},
		},
		{
			name: "- names stdin", args: []string{"--uid=20001", "--gid=20001", "--supplemental-groups=30001,20001", "-"},
			stdin: "harden/helm3-webapp/input.yaml", wantStdout: "harden/helm3-webapp/expected.yaml",
		},
		{
			name: "--config - is refused (stdin has the manifests)", args: []string{"--config", "-"}, stdin: "text:", wantCode: exitUsage,
			stderrHas: []string{"post-renderer: --config -: stdin carries the manifests; give --config a file"},
		},
		{
			name: "--uid without --gid", args: []string{"--uid", "20001"}, stdin: "text:", wantCode: exitUsage,
			stderrHas: []string{"post-renderer: --gid: required (with uid)\n"},
		},
		{
			name: "--gid without --uid", args: []string{"--gid", "20001"}, stdin: "text:", wantCode: exitUsage,
			stderrHas: []string{"post-renderer: --uid: required (with gid or supplementalGroups)\n"},
		},
		{
			name: "an unknown flag is one line with --", args: []string{"--nope"}, stdin: "text:", wantCode: exitUsage,
			stderrHas: []string{"post-renderer: flag provided but not defined: --nope\n"}, oneLine: true,
		},
		{
			name: "a flag without its value", args: []string{"--uid"}, stdin: "text:", wantCode: exitUsage,
			stderrHas: []string{"post-renderer: flag needs an argument: --uid\n"}, oneLine: true,
		},
		{
			name: "no arguments on a terminal", terminal: true, stdin: "text:", wantCode: exitUsage,
			stderrHas: []string{terminalHint + "\n"}, oneLine: true,
		},
		{
			name: "flags but stdin a terminal", args: []string{"--uid=20001", "--gid=20001"}, terminal: true, stdin: "text:", wantCode: exitUsage,
			stderrHas: []string{terminalHint + "\n"}, oneLine: true,
		},
		{
			name: "krm on a terminal", args: []string{"krm"}, terminal: true, stdin: "text:", wantCode: exitUsage,
			stderrHas: []string{"post-renderer krm: reads a ResourceList from stdin, which is a terminal"}, oneLine: true,
		},
		{
			name: "help on a terminal still helps", args: []string{"-h"}, terminal: true, stdin: "text:", stdoutHas: []string{"Usage: post-renderer"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in []byte
			if text, ok := strings.CutPrefix(tt.stdin, "text:"); ok {
				in = []byte(text)
			} else {
				in = readFixture(t, tt.stdin)
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdinOf{Reader: bytes.NewReader(in), terminal: tt.terminal}, &stdout, &stderr, env.OS())
			if tt.oneLine && strings.Count(stderr.String(), "\n") != 1 {
				t.Errorf("stderr is not one line:\n%s", stderr.String())
			}
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d\nstderr:\n%s", code, tt.wantCode, stderr.String())
			}
			if tt.wantCode != 0 && stdout.Len() > 0 {
				t.Errorf("stdout must be empty on failure, got:\n%s", stdout.String())
			}
			if tt.wantStdout != "" {
				if want := readFixture(t, tt.wantStdout); !bytes.Equal(stdout.Bytes(), want) {
					t.Errorf("stdout differs from %s", tt.wantStdout)
				}
			}
			contains(t, "stdout", stdout.String(), tt.stdoutHas...)
			contains(t, "stderr", stderr.String(), tt.stderrHas...)
		})
	}
}

func readFixture(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(fixture(rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stdinOf is a stdin that is a terminal or not, as the case says (buildinfo.ReaderIsTerminal).
type stdinOf struct {
	*bytes.Reader
	terminal bool
}

func (s *stdinOf) IsTerminal() bool { return s.terminal }
