package harden

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peruser-dev/peruser/api/v1alpha1"
)

// TestDowngrades checks the refusal of containers the rewrite would break, and the two
// ways around it, on every kind of pod template.
func TestDowngrades(t *testing.T) {
	id := Identity{UID: 20001, GID: 20001}
	const deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n"
	tests := []struct {
		name string
		spec v1alpha1.HardeningSpec
		in   string
		// errs are the expected error lines (whole), in order; none means accepted.
		errs []string
		// has and hasNot are substrings of the accepted output.
		has, hasNot []string
	}{
		{
			name: "a privileged init container is refused with all three ways out",
			in:   deploy + "      initContainers:\n      - name: init-sysctl\n        image: x\n        securityContext:\n          privileged: true\n      containers:\n      - name: app\n        image: x\n",
			errs: []string{`document 1 (line 1): Deployment/d: spec.template.spec.initContainers[0].securityContext.privileged: container "init-sysctl" asks for privileged: true, which hardening would turn off (it would run unprivileged as uid 20001); disable it in the chart's values, drop the init container with --drop-init-container init-sysctl (dropInitContainers), or accept the downgrade with --allow-downgrade (allowDowngrade: true)`},
		},
		{
			name: "a root container is refused; it cannot be dropped",
			in:   "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: app\n    image: x\n    securityContext: {runAsUser: 0}\n",
			errs: []string{`document 1 (line 1): Pod/p: spec.containers[0].securityContext.runAsUser: container "app" runs as root (runAsUser: 0), which hardening would change to uid 20001; disable it in the chart's values or accept the downgrade with --allow-downgrade (allowDowngrade: true)`},
		},
		{
			name: "the pod's runAsUser 0 is refused once, naming the containers it applies to",
			in: "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: c\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          securityContext: {runAsUser: 0}\n" +
				"          initContainers:\n          - {name: own, image: x, securityContext: {runAsUser: 1000}}\n          - {name: fix, image: x}\n          containers:\n          - {name: app, image: x}\n",
			errs: []string{`document 1 (line 1): CronJob/c: spec.jobTemplate.spec.template.spec.securityContext.runAsUser: runAsUser: 0 (root) applies to containers "fix", "app", which hardening would run as uid 20001; disable it in the chart's values or accept the downgrade with --allow-downgrade (allowDowngrade: true)`},
		},
		{
			name: "the pod's runAsUser 0 that every container overrides is rewritten",
			in:   deploy + "      securityContext: {runAsUser: 0}\n      containers:\n      - {name: app, image: x, securityContext: {runAsUser: 1001}}\n",
			has:  []string{"runAsUser: 20001"},
		},
		{
			name: "added capabilities other than NET_BIND_SERVICE are refused, in a custom resource too",
			in: "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: r\nspec:\n  template:\n    spec:\n      containers:\n" +
				"      - {name: web, image: x, securityContext: {capabilities: {add: [NET_BIND_SERVICE]}}}\n      - {name: vpn, image: x, securityContext: {capabilities: {add: [NET_ADMIN, NET_RAW]}}}\n",
			errs: []string{`document 1 (line 1): Rollout/r: spec.template.spec.containers[1].securityContext.capabilities.add: container "vpn" adds capabilities NET_ADMIN, NET_RAW, which hardening would drop (only NET_BIND_SERVICE is kept); disable it in the chart's values or accept the downgrade with --allow-downgrade (allowDowngrade: true)`},
		},
		{
			name: "every problem of every document is reported",
			in: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  ephemeralContainers:\n  - {name: debug, image: x, securityContext: {privileged: true, runAsUser: 0}}\n  containers: []\n" +
				"---\n" + deploy + "      containers:\n      - {name: app, image: x, securityContext: {privileged: true}}\n",
			errs: []string{
				`document 1 (line 1): Pod/a: spec.ephemeralContainers[0].securityContext.privileged: container "debug" asks for privileged: true, which hardening would turn off (it would run unprivileged as uid 20001); disable it in the chart's values or accept the downgrade with --allow-downgrade (allowDowngrade: true)`,
				`document 1 (line 1): Pod/a: spec.ephemeralContainers[0].securityContext.runAsUser: container "debug" runs as root (runAsUser: 0), which hardening would change to uid 20001; disable it in the chart's values or accept the downgrade with --allow-downgrade (allowDowngrade: true)`,
				`document 2 (line 9): Deployment/d: spec.template.spec.containers[0].securityContext.privileged: container "app" asks for privileged: true, which hardening would turn off (it would run unprivileged as uid 20001); disable it in the chart's values or accept the downgrade with --allow-downgrade (allowDowngrade: true)`,
			},
		},
		{
			name: "allowDowngrade rewrites as before",
			spec: v1alpha1.HardeningSpec{AllowDowngrade: true},
			in:   deploy + "      containers:\n      - name: app\n        image: x\n        securityContext:\n          privileged: true\n          runAsUser: 0\n          capabilities: {add: [SYS_ADMIN]}\n",
			has:  []string{"privileged: false", "runAsUser: 20001"},
			// The container's own runAsUser goes (the pod's applies), and so does the capability.
			hasNot: []string{"SYS_ADMIN", "runAsUser: 0"},
		},
		{
			name: "a dropped init container goes, with its comment; the others stay",
			spec: v1alpha1.HardeningSpec{DropInitContainers: []string{"volume-permissions"}},
			in: deploy + "      initContainers:\n      # chown as root\n      - name: volume-permissions\n        image: x\n        securityContext: {runAsUser: 0}\n" +
				"      - name: wait # for the db\n        image: x\n      containers:\n      - {name: app, image: x}\n",
			has:    []string{"name: wait # for the db"},
			hasNot: []string{"volume-permissions", "chown as root"},
		},
		{
			name:   "dropping the only init container removes the list",
			spec:   v1alpha1.HardeningSpec{DropInitContainers: []string{"init-sysctl"}},
			in:     deploy + "      initContainers:\n      - {name: init-sysctl, image: x, securityContext: {privileged: true}}\n      containers:\n      - {name: app, image: x}\n",
			hasNot: []string{"initContainers", "init-sysctl"},
		},
		{
			name: "dropping applies to init containers only",
			spec: v1alpha1.HardeningSpec{DropInitContainers: []string{"app"}},
			in:   deploy + "      containers:\n      - {name: app, image: x, securityContext: {privileged: true}}\n",
			errs: []string{`document 1 (line 1): Deployment/d: spec.template.spec.containers[0].securityContext.privileged: container "app" asks for privileged: true, which hardening would turn off (it would run unprivileged as uid 20001); disable it in the chart's values or accept the downgrade with --allow-downgrade (allowDowngrade: true)`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHardener(t, tt.spec, id)
			out, _, err := h.Stream([]byte(tt.in))
			if len(tt.errs) > 0 {
				var es Errors
				if !errors.As(err, &es) {
					t.Fatalf("want errors, got %v and output:\n%s", err, out)
				}
				if got, want := err.Error(), strings.Join(tt.errs, "\n"); got != want {
					t.Errorf("errors:\n%s\nwant:\n%s", got, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.has {
				if !strings.Contains(string(out), s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tt.hasNot {
				if strings.Contains(string(out), s) {
					t.Errorf("output has %q:\n%s", s, out)
				}
			}
		})
	}
}

// TestChartDowngrades runs pod templates written out from bitnami's redis and
// postgresql charts (testdata/charts; not fresh renders, which need the network) and
// checks what docs/post-renderer.md says the post-renderer does with them.
func TestChartDowngrades(t *testing.T) {
	id := Identity{UID: 20001, GID: 20001}
	tests := []struct {
		file string
		spec v1alpha1.HardeningSpec
		// refused are the error paths, in order; none means accepted.
		refused []string
	}{
		{file: "redis.yaml"},
		{file: "redis-volume-permissions-sysctl.yaml", refused: []string{
			"spec.template.spec.initContainers[0].securityContext.runAsUser",
			"spec.template.spec.initContainers[1].securityContext.privileged",
			"spec.template.spec.initContainers[1].securityContext.runAsUser",
		}},
		{file: "redis-volume-permissions-sysctl.yaml", spec: v1alpha1.HardeningSpec{DropInitContainers: []string{"volume-permissions", "init-sysctl"}}},
		{file: "redis-volume-permissions-sysctl.yaml", spec: v1alpha1.HardeningSpec{AllowDowngrade: true}},
		{file: "postgresql-volume-permissions.yaml", refused: []string{
			"spec.template.spec.initContainers[0].securityContext.runAsUser",
		}},
		{file: "postgresql-volume-permissions.yaml", spec: v1alpha1.HardeningSpec{DropInitContainers: []string{"init-chmod-data"}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			h := newHardener(t, tt.spec, id)
			in, err := os.ReadFile(filepath.Join("testdata", "charts", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = h.Stream(in)
			var got []string
			if es := (Errors)(nil); errors.As(err, &es) {
				for _, e := range es {
					for _, fe := range e.Errs {
						got = append(got, fe.Path)
					}
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\n") != strings.Join(tt.refused, "\n") {
				t.Errorf("refused at:\n%s\nwant:\n%s\n(%v)", strings.Join(got, "\n"), strings.Join(tt.refused, "\n"), err)
			}
		})
	}
}

// newHardener is New(spec, id) for a test that expects it to succeed.
func newHardener(t *testing.T, spec v1alpha1.HardeningSpec, id Identity) *Hardener {
	t.Helper()
	h, err := New(spec, id)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
