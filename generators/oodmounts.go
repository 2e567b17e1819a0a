package generators

import (
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/api/v1alpha1"
)

// oodMounts are the site's mounts as entries of OOD's cluster `mounts:` (ood_core's
// Kubernetes adapter, templates/pod.yml.erb: type nfs with host and path, or type host
// with path and host_type; name and destination_path), for the mounts whose path has no
// placeholder. OOD reads clusters.d as plain YAML, so a per-user path cannot go there:
// OODMountNotes says where such mounts go instead. Nil when there is none.
func oodMounts(site *v1alpha1.Site) *yaml.Node {
	var entries []*yaml.Node
	for _, m := range site.Spec.Mounts {
		if templated(m) {
			continue
		}
		entries = append(entries, oodMount(m, m.Path(), destination(m)))
	}
	if len(entries) == 0 {
		return nil
	}
	return seq(entries...)
}

func oodMount(m v1alpha1.Mount, path, dest string) *yaml.Node {
	if m.NFS != nil {
		return mapping("type", "nfs", "name", m.Name, "host", m.NFS.Server, "path", path, "destination_path", dest)
	}
	return mapping("type", "host", "name", m.Name, "path", path, "host_type", m.HostPath.Type, "destination_path", dest)
}

func destination(m v1alpha1.Mount) string {
	if m.MountPath != "" {
		return m.MountPath
	}
	return m.Path()
}

func templated(m v1alpha1.Mount) bool {
	return strings.Contains(m.Path(), "{") || strings.Contains(destination(m), "{")
}

// OODMountNotes are, for each mount whose path is per user, the entry to put in the
// `native: mounts:` of each app's submit.yml.erb (which OOD renders as ERB for the user
// and adds to the cluster's mounts), with {user} written as OOD's ERB for the username.
// {uid}, {slug} and {group} have no ERB equivalent here and are named instead.
func OODMountNotes(site *v1alpha1.Site) []string {
	var notes []string
	erb := strings.NewReplacer("{user}", "<%= ENV['USER'] %>")
	for i, m := range site.Spec.Mounts {
		if !templated(m) {
			continue
		}
		path, dest := erb.Replace(m.Path()), erb.Replace(destination(m))
		entry := yaml.NewRNode(seq(oodMount(m, path, dest))).MustString()
		msg := fmt.Sprintf("spec.mounts[%d] (%s) is per user, and OOD's cluster config is plain YAML: add it to each app's submit.yml.erb under script: native: mounts:\n%s", i, m.Name, strings.TrimRight(entry, "\n"))
		if strings.ContainsAny(path+dest, "{}") {
			msg += "\n(replace {uid}, {slug} and {group} by hand: OOD has no placeholder for them)"
		}
		notes = append(notes, msg)
	}
	return notes
}
