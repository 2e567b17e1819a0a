package postrender

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"

	"github.com/peruser-dev/peruser/internal/env"
)

const resourceList = `apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: plain
    annotations:
      config.kubernetes.io/index: '0'
      internal.config.kubernetes.io/index: '0'
  data: {a: b}
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web
    annotations:
      config.kubernetes.io/index: '1'
      internal.config.kubernetes.io/index: '1'
  spec:
    template:
      spec:
        containers:
        - name: web
          image: nginx
%s
functionConfig:
%s
`

const hardeningConfig = `  apiVersion: peruser.dev/v1alpha1
  kind: Hardening
  metadata: {name: harden}
  spec:
    identity: {uid: 20001, gid: 20001}
    lifetime: 8h
`

// TestKRM runs the transformer in process on ResourceLists as kustomize sends them.
func TestKRM(t *testing.T) {
	hostPathItem := `- apiVersion: v1
  kind: Pod
  metadata:
    name: agent
    annotations:
      config.kubernetes.io/index: '2'
      internal.config.kubernetes.io/path: 'templates/agent.yaml'
  spec:
    containers: [{name: a, image: x}]
    volumes: [{name: h, hostPath: {path: /var/run}}]`
	// The Deployment of resourceList with a root init container.
	rootInit := strings.Replace(strings.Replace(resourceList, "%s\n", "", 1), "        containers:\n",
		"        initContainers: [{name: volume-permissions, image: x, securityContext: {runAsUser: 0}}]\n        containers:\n", 1)
	tests := []struct {
		name      string
		args      []string
		input     string
		wantCode  int
		stdoutHas []string
		stderrHas []string
	}{
		{
			name: "as kustomize runs it: no arguments", input: strings.Replace(strings.Replace(resourceList, "%s\n", "", 1), "%s", hardeningConfig, 1),
			stdoutHas: []string{"kind: ResourceList", "runAsUser: 20001", "pod.kubernetes.io/lifetime: 8h",
				"config.kubernetes.io/index: '1'", "name: plain\n    annotations:\n      config.kubernetes.io/index: '0'"},
		},
		{
			name: "the krm subcommand", args: []string{"krm"}, input: strings.Replace(strings.Replace(resourceList, "%s\n", "", 1), "%s", hardeningConfig, 1),
			stdoutHas: []string{"runAsUser: 20001"},
		},
		{
			name: "an item that cannot be made safe", input: strings.Replace(strings.Replace(resourceList, "%s", hostPathItem, 1), "%s", hardeningConfig, 1),
			wantCode:  exitUnsafe,
			stderrHas: []string{"templates/agent.yaml: Pod/agent: spec.volumes[0].hostPath: hostPath \"/var/run\" is not allowed (allowed prefixes: none); allow it with --allow-host-path /var/run"},
		},
		{
			name: "a root init container is refused", input: strings.Replace(rootInit, "%s", hardeningConfig, 1),
			wantCode:  exitUnsafe,
			stderrHas: []string{`items[1]: Deployment/web: spec.template.spec.initContainers[0].securityContext.runAsUser: container "volume-permissions" runs as root (runAsUser: 0), which hardening would change to uid 20001; disable it in the chart's values, drop the init container with --drop-init-container volume-permissions (dropInitContainers)`},
		},
		{
			// Exit 0 is the proof: kept, the root init container would be refused (above).
			name:      "dropInitContainers in the functionConfig",
			input:     strings.Replace(rootInit, "%s", hardeningConfig+"    dropInitContainers: [volume-permissions]\n", 1),
			stdoutHas: []string{"name: web"},
		},
		{
			name: "no functionConfig", input: "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n", args: []string{"krm"},
			wantCode: exitUsage, stderrHas: []string{"functionConfig is missing: this transformer takes a peruser.dev/v1alpha1 Hardening"},
		},
		{
			name: "a Site is not a Hardening", args: []string{"krm"},
			input:    strings.Replace(strings.Replace(resourceList, "%s\n", "", 1), "%s", "  apiVersion: peruser.dev/v1alpha1\n  kind: Site\n  metadata: {name: x}\n", 1),
			wantCode: exitUsage, stderrHas: []string{`must be apiVersion: peruser.dev/v1alpha1, kind: Hardening (got apiVersion: "peruser.dev/v1alpha1", kind: "Site")`},
		},
		{
			name: "root in the functionConfig", args: []string{"krm"},
			input:    strings.Replace(strings.Replace(resourceList, "%s\n", "", 1), "%s", strings.Replace(hardeningConfig, "uid: 20001", "uid: 0", 1), 1),
			wantCode: exitUsage, stderrHas: []string{"spec.identity.uid: must be ≥ 1, got 0"},
		},
		{
			name: "a value the schema accepts is refused by the spec's validation", args: []string{"krm"},
			input:    strings.Replace(strings.Replace(resourceList, "%s\n", "", 1), "%s", hardeningConfig+"    registryRewrites: [{from: docker.io, to: docker.io/mirror}]\n", 1),
			wantCode: exitUsage, stderrHas: []string{`functionConfig: spec.registryRewrites[0].to: "docker.io/mirror" would be rewritten again by from "docker.io"`},
		},
		{
			name: "a misspelt field in the functionConfig", args: []string{"krm"},
			input:    strings.Replace(strings.Replace(resourceList, "%s\n", "", 1), "%s", hardeningConfig+"    exceptions: {hostPaths: [/users/]}\n", 1),
			wantCode: exitUsage, stderrHas: []string{"spec.exceptions.hostPaths: unknown field (accepted here: hostPathPrefixes, volumeTypes)"},
		},
		{
			name: "arguments to krm", args: []string{"krm", "--uid=1"}, input: "",
			wantCode: exitUsage, stderrHas: []string{"takes no arguments"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, strings.NewReader(tt.input), &stdout, &stderr, env.OS())
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d\nstderr: %s\nstdout: %s", code, tt.wantCode, stderr.String(), stdout.String())
			}
			if code != 0 && stdout.Len() > 0 {
				t.Errorf("stdout must be empty on failure:\n%s", stdout.String())
			}
			contains(t, "stdout", stdout.String(), tt.stdoutHas...)
			contains(t, "stderr", stderr.String(), tt.stderrHas...)
			if code == 0 {
				// The output is a ResourceList kyaml reads back with every item.
				rw := &kio.ByteReadWriter{Reader: bytes.NewReader(stdout.Bytes())}
				items, err := rw.Read()
				if err != nil || len(items) != 2 {
					t.Errorf("output ResourceList: %d items, %v", len(items), err)
				}
			}
		})
	}
}
