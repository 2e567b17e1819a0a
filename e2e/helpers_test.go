package e2e

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
)

// identity is a user's POSIX identity as their Namespace's annotations record it.
type identity struct {
	UID, GID int64
	// Groups are the supplemental GIDs the user may add.
	Groups []int64
}

func namespaceIdentity(t *testing.T, ns *unstructured.Unstructured) identity {
	t.Helper()
	a := ns.GetAnnotations()
	parse := func(key, v string) int64 {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			t.Fatalf("Namespace %s annotation %s=%q: %v", ns.GetName(), key, v, err)
		}
		return n
	}
	id := identity{UID: parse(annotUID, a[annotUID]), GID: parse(annotGID, a[annotGID])}
	if v := a[annotSupplGroups]; v != "" {
		for _, g := range strings.Split(v, ",") {
			id.Groups = append(id.Groups, parse(annotSupplGroups, g))
		}
	}
	sort.Slice(id.Groups, func(i, j int) bool { return id.Groups[i] < id.Groups[j] })
	return id
}

// foreignGID is a GID that is none of id's.
func (id identity) foreignGID() int64 {
	used := map[int64]bool{id.UID: true, id.GID: true}
	for _, g := range id.Groups {
		used[g] = true
	}
	g := int64(39999)
	for used[g] {
		g++
	}
	return g
}

// restrictedPod is a pod that passes Pod Security "restricted" and runs as id: what the
// post-renderer makes of a workload. Each test bends one field of it.
func restrictedPod(name, namespace string, id identity) *corev1.Pod {
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot:       ptr.To(true),
				RunAsUser:          ptr.To(id.UID),
				RunAsGroup:         ptr.To(id.GID),
				FSGroup:            ptr.To(id.GID),
				SupplementalGroups: append([]int64(nil), id.Groups...),
				SeccompProfile:     &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
				// What the post-renderer writes, and the site's policies require.
				SupplementalGroupsPolicy: ptr.To(corev1.SupplementalGroupsPolicyStrict),
			},
			Containers: []corev1.Container{restrictedContainer("main", "100m", "100m")},
		},
	}
}

func restrictedContainer(name, cpuRequest, cpuLimit string) corev1.Container {
	return corev1.Container{
		Name:  name,
		Image: "registry.k8s.io/pause:3.10",
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpuRequest), corev1.ResourceMemory: resource.MustParse("64Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpuLimit), corev1.ResourceMemory: resource.MustParse("64Mi")},
		},
	}
}

// quantity reads a resource quantity at path in o.
func quantity(o *unstructured.Unstructured, path ...string) (resource.Quantity, error) {
	v, found, err := unstructured.NestedFieldNoCopy(o.Object, path...)
	if err != nil || !found {
		return resource.Quantity{}, fmt.Errorf("%s has no %s", o.GetName(), strings.Join(path, "."))
	}
	return resource.ParseQuantity(fmt.Sprint(v))
}
