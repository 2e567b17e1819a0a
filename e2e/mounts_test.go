package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/peruser-dev/peruser/e2e/harness"
	"github.com/peruser-dev/peruser/internal/testenv"
)

// mountsSite lets users mount their home over NFS and from the node, and their groups'
// project directories read-only. Its prefix keeps it apart from the example site; its
// identity policy is the example site's (or none), so that only peruser-pod-restrictions
// judges here.
const mountsSite = `apiVersion: peruser.dev/v1alpha1
kind: Site
metadata:
  name: mounts-e2e
spec:
  namespace: {prefix: mnt-}
  mounts:
    - name: home
      nfs: {server: nfs.example.edu, path: "/home/{user}"}
    - name: users
      hostPath: {path: "/users/{user}"}
    - name: project
      hostPath: {path: "/fs/project/{group}"}
      readOnly: true
  users:
    - {name: oakley, uid: 21001, gid: 21001, groups: [{name: pzs0001, gid: 31001}]}
    - {name: jane.doe, uid: 21002, gid: 21002}
`

// renderWithKrmFn renders a Site file with the real `krm-fn render`.
func renderWithKrmFn(ctx context.Context, t *testing.T, siteYAML string) []byte {
	t.Helper()
	bin := testenv.Binary(t, "./cmd/krm-fn")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "site.yaml"), []byte(siteYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, bin, "render", "site.yaml")
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("krm-fn render: %v\n%s", err, stderr.String())
	}
	return out
}

// oodPod is a pod shaped like ood_core's Kubernetes adapter makes them
// (lib/ood_core/job/adapters/kubernetes/templates/pod.yml.erb): pod-level identity and
// runAsNonRoot, host namespaces written false, the container's securityContext with
// allowPrivilegeEscalation false, drop ALL, seccomp RuntimeDefault and privileged false,
// and one volume of the cluster's mounts.
func oodPod(namespace string, id identity, volume corev1.Volume, mountPath string) *corev1.Pod {
	p := restrictedPod("ood-e2e", namespace, id)
	p.Labels = map[string]string{"app.kubernetes.io/managed-by": "open-ondemand"}
	p.Spec.SecurityContext.SeccompProfile = nil // OOD sets it per container
	p.Spec.HostNetwork, p.Spec.HostIPC, p.Spec.HostPID = false, false, false
	c := &p.Spec.Containers[0]
	c.SecurityContext.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	c.SecurityContext.Privileged = ptr.To(false)
	c.VolumeMounts = []corev1.VolumeMount{{Name: volume.Name, MountPath: mountPath}}
	p.Spec.Volumes = []corev1.Volume{volume}
	return p
}

func nfsVolume(name, server, path string) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: server, Path: path}}}
}

func hostPathVolume(name, path string) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: path, Type: ptr.To(corev1.HostPathDirectory)}}}
}

// TestMountsUnderRestriction: with spec.mounts, OOD-shaped pods may mount the user's own
// home (nfs or hostPath) and, read-only, their group's project directory; every other
// path, server or volume type, and each rule of Pod Security restricted, is denied by
// peruser-pod-restrictions with a message naming the field.
func TestMountsUnderRestriction(t *testing.T) {
	c := testCluster(t)
	ctx := testContext(t)
	manifest := renderWithKrmFn(ctx, t, mountsSite)
	if err := applySite(ctx, c, manifest); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = c.RunKubectl(context.Background(), manifest, "delete", "--wait=false", "-f", "-")
	})
	objs, err := harness.ParseObjects(manifest)
	if err != nil {
		t.Fatal(err)
	}
	ns := harness.Find(objs, "Namespace", "", "mnt-oakley")
	if ns == nil {
		t.Fatalf("no namespace mnt-oakley rendered")
	}
	if got := ns.GetLabels()["pod-security.kubernetes.io/enforce"]; got != "privileged" {
		t.Errorf("mnt-oakley enforces Pod Security %q, want privileged (the level that admits hostPath)", got)
	}
	id := namespaceIdentity(t, ns)
	home := func(v corev1.Volume) *corev1.Pod { return oodPod("mnt-oakley", id, v, "/home/oakley") }
	own := func() *corev1.Pod { return home(nfsVolume("home", "nfs.example.edu", "/home/oakley")) }
	bad := own()
	bad.Spec.HostNetwork = true
	waitForPolicy(ctx, t, c, bad)

	for _, tc := range []struct {
		name string
		pod  func() *corev1.Pod
		deny string // "" admits; else a part of the message, naming the field
	}{
		{"own home via nfs", own, ""},
		{"own home subdirectory via nfs", func() *corev1.Pod { return home(nfsVolume("home", "nfs.example.edu", "/home/oakley/work")) }, ""},
		{"own home via hostPath", func() *corev1.Pod { return home(hostPathVolume("users", "/users/oakley")) }, ""},
		{"own group's project read-only", func() *corev1.Pod {
			p := home(hostPathVolume("project", "/fs/project/pzs0001"))
			p.Spec.Containers[0].VolumeMounts[0].ReadOnly = true
			return p
		}, ""},
		{"own group's project writable", func() *corev1.Pod { return home(hostPathVolume("project", "/fs/project/pzs0001")) }, "spec.volumes[].hostPath"},
		{"another user's home via nfs", func() *corev1.Pod { return home(nfsVolume("home", "nfs.example.edu", "/home/jane.doe")) }, "spec.volumes[].nfs"},
		{"another user's home via hostPath", func() *corev1.Pod { return home(hostPathVolume("users", "/users/jane.doe")) }, "spec.volumes[].hostPath"},
		{"a name that only starts like the home", func() *corev1.Pod { return home(nfsVolume("home", "nfs.example.edu", "/home/oakley2")) }, "spec.volumes[].nfs"},
		{"the node's /", func() *corev1.Pod { return home(hostPathVolume("users", "/")) }, "spec.volumes[].hostPath"},
		{"a path with ..", func() *corev1.Pod { return home(nfsVolume("home", "nfs.example.edu", "/home/oakley/../jane.doe")) }, "spec.volumes[].nfs"},
		{"an unlisted server", func() *corev1.Pod { return home(nfsVolume("home", "evil.example.edu", "/home/oakley")) }, "spec.volumes[].nfs"},
		{"a volume type outside the list", func() *corev1.Pod {
			return home(corev1.Volume{Name: "disk", VolumeSource: corev1.VolumeSource{ISCSI: &corev1.ISCSIVolumeSource{TargetPortal: "10.0.0.1:3260", IQN: "iqn.2001-04.com.example:disk", Lun: 0}}})
		}, "spec.volumes: volume(s) disk"},
		{"privileged", func() *corev1.Pod {
			p := own()
			p.Spec.Containers[0].SecurityContext.Privileged = ptr.To(true)
			p.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil // validation refuses privileged without escalation
			return p
		}, "securityContext.privileged"},
		{"a capability added", func() *corev1.Pod {
			p := own()
			p.Spec.Containers[0].SecurityContext.Capabilities.Add = []corev1.Capability{"SYS_ADMIN"}
			return p
		}, "securityContext.capabilities"},
		{"capabilities not dropped", func() *corev1.Pod { p := own(); p.Spec.Containers[0].SecurityContext.Capabilities = nil; return p }, "securityContext.capabilities"},
		{"seccomp Unconfined", func() *corev1.Pod {
			p := own()
			p.Spec.Containers[0].SecurityContext.SeccompProfile.Type = corev1.SeccompProfileTypeUnconfined
			return p
		}, "securityContext.seccompProfile.type"},
		{"no seccomp profile", func() *corev1.Pod { p := own(); p.Spec.Containers[0].SecurityContext.SeccompProfile = nil; return p }, "securityContext.seccompProfile.type"},
		{"container runAsNonRoot false", func() *corev1.Pod {
			p := own()
			p.Spec.Containers[0].SecurityContext.RunAsNonRoot = ptr.To(false)
			return p
		}, "runAsNonRoot"},
		{"hostNetwork", func() *corev1.Pod { p := own(); p.Spec.HostNetwork = true; return p }, "spec.hostNetwork"},
		{"hostPID", func() *corev1.Pod { p := own(); p.Spec.HostPID = true; return p }, "spec.hostPID"},
		{"a host port", func() *corev1.Pod {
			p := own()
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 8080, HostPort: 8080}}
			return p
		}, "hostPort"},
		{"an unsafe sysctl", func() *corev1.Pod {
			p := own()
			p.Spec.SecurityContext.Sysctls = []corev1.Sysctl{{Name: "kernel.msgmax", Value: "65536"}}
			return p
		}, "spec.securityContext.sysctls: kernel.msgmax"},
		{"an SELinux type", func() *corev1.Pod {
			p := own()
			p.Spec.SecurityContext.SELinuxOptions = &corev1.SELinuxOptions{Type: "spc_t"}
			return p
		}, "securityContext.seLinuxOptions"},
		{"AppArmor Unconfined", func() *corev1.Pod {
			p := own()
			p.Spec.Containers[0].SecurityContext.AppArmorProfile = &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}
			return p
		}, "securityContext.appArmorProfile.type"},
		// allowPrivilegeEscalation is pinned by the identity policy, which the
		// example site's e2e tests judge.
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.DryRunCreate(ctx, tc.pod())
			switch {
			case tc.deny == "" && err != nil:
				t.Errorf("rejected: %v", err)
			case tc.deny != "" && err == nil:
				t.Errorf("admitted")
			case tc.deny != "" && !harness.IsForbiddenBy(err, "ValidatingAdmissionPolicy", tc.deny):
				t.Errorf("rejected, but not by the restrictions policy with a message naming %q: %v", tc.deny, err)
			}
		})
	}
}
