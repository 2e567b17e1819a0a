package harden

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/internal/podrules"
)

// TestRules checks one hardening rule per case on a small Pod.
func TestRules(t *testing.T) {
	id := Identity{UID: 20001, GID: 20001}
	const podSC = `  securityContext:
    runAsUser: 20001
    runAsGroup: 20001
    fsGroup: 20001
    runAsNonRoot: true
    seccompProfile:
      type: RuntimeDefault
`
	const strict = "    supplementalGroupsPolicy: Strict\n"
	tests := []struct {
		name string
		spec v1alpha1.HardeningSpec
		id   Identity // default: 20001:20001
		in   string   // the Pod's spec, indented by two spaces
		want string   // the hardened spec
	}{
		{
			name: "bare container",
			in:   "  containers:\n  - name: a\n    image: x\n",
			want: "  containers:\n  - name: a\n    image: x\n    securityContext:\n      allowPrivilegeEscalation: false\n      privileged: false\n      capabilities:\n        drop:\n        - ALL\n" + podSC + strict,
		},
		{
			name: "the user's own container identity stays, another is removed",
			in: "  containers:\n  - name: a\n    image: x\n    securityContext:\n      runAsUser: 20001\n      runAsGroup: 0\n      runAsNonRoot: false\n" +
				"      allowPrivilegeEscalation: false\n      privileged: false\n      capabilities:\n        drop: [ALL]\n" + podSC,
			want: "  containers:\n  - name: a\n    image: x\n    securityContext:\n      runAsUser: 20001\n" +
				"      allowPrivilegeEscalation: false\n      privileged: false\n      capabilities:\n        drop: [ALL]\n" + podSC + strict,
		},
		{
			name: "NET_BIND_SERVICE is the one capability kept",
			spec: v1alpha1.HardeningSpec{AllowDowngrade: true},
			in: "  containers:\n  - name: a\n    image: x\n    securityContext:\n      allowPrivilegeEscalation: false\n      privileged: false\n" +
				"      capabilities:\n        add: [SYS_ADMIN, NET_BIND_SERVICE, NET_BIND_SERVICE]\n        drop: [ALL, NET_RAW]\n" + podSC,
			want: "  containers:\n  - name: a\n    image: x\n    securityContext:\n      allowPrivilegeEscalation: false\n      privileged: false\n" +
				"      capabilities:\n        add: [NET_BIND_SERVICE]\n        drop: [ALL, NET_RAW]\n" + podSC + strict,
		},
		{
			name: "a Localhost seccomp profile is kept, an empty container profile inherits the pod's",
			in: "  containers:\n  - name: a\n    image: x\n    securityContext:\n      seccompProfile: {}\n      allowPrivilegeEscalation: false\n      privileged: false\n      capabilities:\n        drop: [ALL]\n" +
				"  securityContext:\n    runAsUser: 20001\n    runAsGroup: 20001\n    fsGroup: 20001\n    runAsNonRoot: true\n    seccompProfile:\n      type: Localhost\n      localhostProfile: profiles/audit.json\n",
			want: "  containers:\n  - name: a\n    image: x\n    securityContext:\n      allowPrivilegeEscalation: false\n      privileged: false\n      capabilities:\n        drop: [ALL]\n" +
				"  securityContext:\n    runAsUser: 20001\n    runAsGroup: 20001\n    fsGroup: 20001\n    runAsNonRoot: true\n    seccompProfile:\n      type: Localhost\n      localhostProfile: profiles/audit.json\n" + strict,
		},
		{
			name: "Merge becomes Strict",
			in:   "  containers: []\n  securityContext:\n    supplementalGroupsPolicy: Merge\n",
			want: "  containers: []\n  securityContext:\n    supplementalGroupsPolicy: Strict\n    runAsUser: 20001\n    runAsGroup: 20001\n    fsGroup: 20001\n    runAsNonRoot: true\n    seccompProfile:\n      type: RuntimeDefault\n",
		},
		{
			name: "a site that turned Strict off keeps the chart's policy",
			id:   Identity{UID: 20001, GID: 20001, KeepGroupsPolicy: true},
			in:   "  containers: []\n  securityContext:\n    supplementalGroupsPolicy: Merge\n",
			want: "  containers: []\n  securityContext:\n    supplementalGroupsPolicy: Merge\n    runAsUser: 20001\n    runAsGroup: 20001\n    fsGroup: 20001\n    runAsNonRoot: true\n    seccompProfile:\n      type: RuntimeDefault\n",
		},
		{
			name: "without asked groups the chart's are removed",
			in:   "  containers: []\n  securityContext:\n    supplementalGroups: [0, 999]\n",
			want: "  containers: []\n  securityContext:\n    runAsUser: 20001\n    runAsGroup: 20001\n    fsGroup: 20001\n    runAsNonRoot: true\n    seccompProfile:\n      type: RuntimeDefault\n" + strict,
		},
		{
			name: "asked groups replace the chart's, sorted and unique",
			id:   Identity{UID: 20001, GID: 20001, SupplementalGroups: []int64{30002, 30001, 30002}},
			in:   "  containers: []\n  securityContext:\n    supplementalGroups: [0, 999]\n",
			want: "  containers: []\n  securityContext:\n    supplementalGroups:\n    - 30001\n    - 30002\n    runAsUser: 20001\n    runAsGroup: 20001\n    fsGroup: 20001\n    runAsNonRoot: true\n    seccompProfile:\n      type: RuntimeDefault\n" + strict,
		},
		{
			name: "a string uid is replaced by the number",
			in:   "  containers: []\n" + strings.Replace(podSC, "runAsUser: 20001", `runAsUser: "20001"`, 1),
			want: "  containers: []\n" + podSC + strict,
		},
		{
			name: "pull secrets are appended once",
			spec: v1alpha1.HardeningSpec{ImagePullSecrets: []string{"a", "b"}},
			in:   "  containers: []\n  imagePullSecrets: [{name: b}]\n" + podSC,
			want: "  containers: []\n  imagePullSecrets:\n  - {name: b}\n  - name: a\n" + podSC + strict,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, who := tt.spec, tt.id
			if who.UID == 0 {
				who = id
			}
			spec.Verify = new(bool) // these specs are fragments; verification has its own tests
			h := newHardener(t, spec, who)
			const head = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n"
			out, _, err := h.Stream([]byte(head + tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimPrefix(string(out), head); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// TestListsMatchPSA keeps safeSysctls and the volume type lists in step with the Pod
// Security Admission library: a newer library that allows more (or less) fails here.
func TestListsMatchPSA(t *testing.T) {
	ev, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	admitted := func(spec corev1.PodSpec) bool {
		f, tr := false, true
		spec.SecurityContext = mergeSC(spec.SecurityContext)
		spec.Containers = []corev1.Container{{Name: "a", Image: "x", SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: &f, RunAsNonRoot: &tr, Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		}}}
		return policy.AggregateCheckResults(ev.EvaluatePod(restrictedLatest, &metav1.ObjectMeta{}, &spec)).Allowed
	}
	for _, s := range safeSysctls {
		if !admitted(corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{Sysctls: []corev1.Sysctl{{Name: s, Value: "1"}}}}) {
			t.Errorf("sysctl %s is listed as safe but Pod Security rejects it", s)
		}
	}
	volume := func(typ string) corev1.PodSpec {
		var v corev1.Volume
		if err := json.Unmarshal([]byte(`{"name":"v","`+typ+`":{}}`), &v); err != nil {
			t.Fatal(err)
		}
		return corev1.PodSpec{Volumes: []corev1.Volume{v}}
	}
	for _, typ := range podrules.RestrictedVolumeTypes {
		if !admitted(volume(typ)) {
			t.Errorf("volume type %s is listed as allowed but Pod Security rejects it", typ)
		}
	}
	for _, typ := range podrules.OtherVolumeTypes {
		if admitted(volume(typ)) {
			t.Errorf("volume type %s is listed as forbidden but Pod Security admits it", typ)
		}
	}
}

func mergeSC(sc *corev1.PodSecurityContext) *corev1.PodSecurityContext {
	if sc == nil {
		sc = &corev1.PodSecurityContext{}
	}
	tr := true
	sc.RunAsNonRoot = &tr
	sc.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	return sc
}

// TestAliasBomb: a pod template whose aliases would expand exponentially is refused
// with a message, not expanded until memory runs out.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Pod\nmetadata: {name: lol}\nspec:\n  containers:\n  - name: a\n    env: &l0 [{name: a, value: lol}]\n")
	for i := 1; i < 12; i++ {
		p := "*l" + strconv.Itoa(i-1)
		b.WriteString("    x" + strconv.Itoa(i) + ": &l" + strconv.Itoa(i) + " [" + strings.Repeat(p+", ", 7) + p + "]\n")
	}
	h, err := New(v1alpha1.HardeningSpec{}, Identity{UID: 1000, GID: 1000})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = h.Stream([]byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "document 1 (line 1): Pod/lol: YAML aliases expand to more than four times the document") {
		t.Fatalf("err = %v", err)
	}
}

// TestAliasAcrossListItems: in a List, an anchor in one item's pod template that another
// item aliases must not carry the hardening into that other item.
func TestAliasAcrossListItems(t *testing.T) {
	in := `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: p}
  spec:
    containers:
    - &c {name: app, image: busybox}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: copy}
  data:
    container: *c
`
	h, err := New(v1alpha1.HardeningSpec{}, Identity{UID: 1000, GID: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := h.Stream([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	items, err := yaml.Parse(string(out))
	if err != nil {
		t.Fatal(err)
	}
	cm, err := items.Pipe(yaml.Lookup("items", "1", "data", "container"))
	if err != nil || cm == nil {
		t.Fatalf("ConfigMap data not found: %v\n%s", err, out)
	}
	if got := cm.MustString(); strings.Contains(got, "securityContext") || !strings.Contains(got, "image: busybox") {
		t.Errorf("the ConfigMap changed with the Pod it aliased:\n%s", got)
	}
	if !strings.Contains(string(out), "runAsUser: 1000") {
		t.Errorf("the Pod was not hardened:\n%s", out)
	}
}
