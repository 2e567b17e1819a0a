package generators

import (
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/identity"
)

// NFSPath expands the path template for user u: {user} is the raw username, {uid} the
// uid and {slug} the user's slug.
func NFSPath(template string, u identity.User) string {
	return strings.NewReplacer(
		"{user}", u.Name,
		"{uid}", strconv.FormatInt(u.UID, 10),
		"{slug}", u.Slug,
	).Replace(template)
}

// PersistentVolumeName is user u's cluster-scoped volume: <namespace>-<claimName>,
// unique because namespaces are.
func PersistentVolumeName(u identity.User, claimName string) string {
	return u.Namespace + "-" + claimName
}

// checkStorage refuses users whose name would move their volume's path elsewhere on
// the server: the template was checked by the spec loader, but {user} is the raw
// username, which comes from the spec or the directory and may hold '/' or be "..".
func (g *generator) checkStorage(users []identity.User) error {
	st := g.site.Spec.Storage
	if st == nil || !strings.Contains(st.NFS.Path, "{user}") {
		return nil
	}
	var errs field.List
	for _, u := range users {
		if u.Name == "." || u.Name == ".." || strings.ContainsAny(u.Name, "/\x00\n\r") {
			errs = append(errs, field.Errorf("spec.storage.nfs.path",
				"user %q cannot be put in the path template %q: the name holds '/' or is a dot name, which would point the volume outside the user's directory; use {slug} or {uid}",
				u.Name, st.NFS.Path))
		}
	}
	return errs.ErrOrNil()
}

// storage is the user's PersistentVolumeClaim and the NFS PersistentVolume it binds,
// pre-bound both ways (the claim's volumeName, the volume's claimRef) so that no other
// claim can take the volume and no dynamic provisioner interferes (storageClassName
// "" on both). The volume's reclaim policy is Retain: deleting the claim or the
// namespace never deletes the data.
func (g *generator) storage(u identity.User, labels map[string]string) []*yaml.Node {
	st := g.site.Spec.Storage
	if st == nil {
		return nil
	}
	capacity := canonicalQuantity(g.site.StorageCapacityFor(u.Profile))
	pvName := PersistentVolumeName(u, st.ClaimName)
	accessModes := []string{"ReadWriteMany"}
	pvc := object("v1", "PersistentVolumeClaim", meta(st.ClaimName, u.Namespace, labels, g.protectData(nil)),
		"spec", mapping(
			"accessModes", accessModes,
			"resources", mapping("requests", mapping("storage", capacity)),
			"storageClassName", "",
			"volumeMode", "Filesystem",
			"volumeName", pvName,
		))
	var mountOptions *yaml.Node
	if len(st.MountOptions) > 0 {
		mountOptions = value(st.MountOptions)
	}
	pv := object("v1", "PersistentVolume", meta(pvName, "", labels, g.protectData(nil)),
		"spec", mapping(
			"accessModes", accessModes,
			"capacity", mapping("storage", capacity),
			"claimRef", mapping("kind", "PersistentVolumeClaim", "name", st.ClaimName, "namespace", u.Namespace),
			"mountOptions", mountOptions,
			"nfs", mapping("path", NFSPath(st.NFS.Path, u), "server", st.NFS.Server),
			"persistentVolumeReclaimPolicy", "Retain",
			"storageClassName", "",
			"volumeMode", "Filesystem",
		))
	return []*yaml.Node{pvc, pv}
}

// canonicalQuantity writes q as the apiserver stores it ("1024Mi" → "1Gi"), so a
// re-apply changes nothing. The spec loader has already parsed it.
func canonicalQuantity(q v1alpha1.Quantity) string {
	if v, err := v1alpha1.ParseQuantity(q); err == nil {
		return v.String()
	}
	return string(q)
}
