package generators_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/peruser-dev/peruser/generators"
	"github.com/peruser-dev/peruser/identity"
)

func TestMountPaths(t *testing.T) {
	u := identity.User{Name: "jane.doe", UID: 20002, Slug: "jane-doe",
		Groups: []identity.Group{{Name: "pzs0002", GID: 30002}, {Name: "pzs0001", GID: 30001}}}
	assert.Equal(t, []string{"/home/jane.doe"}, generators.MountPaths("/home/{user}", u))
	assert.Equal(t, []string{"/x/20002/jane-doe"}, generators.MountPaths("/x/{uid}/{slug}", u))
	assert.Equal(t, []string{"/fs/project/pzs0001/jane.doe", "/fs/project/pzs0002/jane.doe"}, generators.MountPaths("/fs/project/{group}/{user}", u), "one per group, sorted")
	assert.Empty(t, generators.MountPaths("/fs/project/{group}", identity.User{Name: "nogroups"}), "no group, no path")
}

// TestMountsLowerPodSecurity: listed mounts lower the namespace level to the one that
// admits them and add the restrictions policy; without mounts nothing changes.
func TestMountsLowerPodSecurity(t *testing.T) {
	for _, tt := range []struct {
		name, features, level string
		policy                bool
	}{
		{"no mounts", "", "restricted", false},
		{"nfs", "  mounts: [{name: home, nfs: {server: nfs.example.edu, path: \"/home/{user}\"}}]\n", "baseline", true},
		{"hostPath", "  mounts: [{name: home, hostPath: {path: \"/users/{user}\"}}]\n", "privileged", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			objs := renderSite(t, siteWithUsers([]string{"oakley"}, tt.features))
			ns := find(t, objs, "Namespace", "", "user-oakley")
			assert.Equal(t, tt.level, ns.GetLabels()["pod-security.kubernetes.io/enforce"])
			found := false
			for _, o := range objs {
				found = found || o.GetKind() == "ValidatingAdmissionPolicy" && o.GetName() == generators.PodRestrictionsPolicy
			}
			assert.Equal(t, tt.policy, found)
		})
	}
}
