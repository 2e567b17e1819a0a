package v1alpha1

import (
	"strings"

	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/naming"
)

// Mount is a volume that users' pods may mount directly, the way Open OnDemand's
// Kubernetes adapter mounts homes and project space (its cluster `mounts:`): an NFS
// export or a host directory. Paths are templates, expanded per user, so that each user
// reaches only their own directories: {user} is the raw username, {uid} the uid, {slug}
// the namespace slug, and {group} each of the user's group names (one allowed path per
// group). A pod may mount the expanded path or any directory beneath it.
//
// With mounts listed, user namespaces carry the Pod Security level that admits these
// volume types (baseline for NFS, privileged for hostPath), and peruser's own admission
// policy enforces the rest of the restricted level and the paths.
type Mount struct {
	// Name is the volume's name in OOD's cluster config.
	Name     string         `json:"name"`
	NFS      *MountNFS      `json:"nfs,omitempty"`
	HostPath *MountHostPath `json:"hostPath,omitempty"`
	// MountPath is where OOD mounts the volume in the container (destination_path).
	// Default: the volume's path.
	MountPath string `json:"mountPath,omitempty"`
	// ReadOnly requires every container that mounts the volume to mount it read-only.
	ReadOnly bool `json:"readOnly,omitempty"`
}

// MountNFS is an NFS server and an absolute path template on it.
type MountNFS struct {
	Server string `json:"server"`
	Path   string `json:"path"`
}

// MountHostPath is an absolute path template on the node, never "/".
type MountHostPath struct {
	Path string `json:"path"`
	// Type is the hostPath type OOD writes (host_type). Default "Directory".
	Type string `json:"type,omitempty"`
}

// MountPlaceholders are the placeholders a mount path may use.
var MountPlaceholders = []string{"{user}", "{uid}", "{slug}", "{group}"}

// Path is the mount's path template, whichever kind it is.
func (m Mount) Path() string {
	if m.NFS != nil {
		return m.NFS.Path
	}
	if m.HostPath != nil {
		return m.HostPath.Path
	}
	return ""
}

// validateMounts checks every mount: exactly one kind, an absolute, clean path
// template with known placeholders only, no "/" host path.
func (s *Site) validateMounts(p field.Path) field.List {
	var errs field.List
	names := map[string]int{}
	for i, m := range s.Spec.Mounts {
		mp := p.Index(i)
		if !naming.IsDNSLabel(m.Name) {
			errs = append(errs, field.Errorf(mp.Child("name").String(), "%q must be a DNS label (a pod volume name)", m.Name))
		} else if j, dup := names[m.Name]; dup {
			errs = append(errs, field.Errorf(mp.Child("name").String(), "duplicate mount %q (also %s)", m.Name, p.Index(j)))
		} else {
			names[m.Name] = i
		}
		var pathField field.Path
		switch {
		case (m.NFS == nil) == (m.HostPath == nil):
			errs = append(errs, field.Errorf(mp.String(), "set exactly one of nfs or hostPath"))
			continue
		case m.NFS != nil:
			pathField = mp.Child("nfs").Child("path")
			if strings.TrimSpace(m.NFS.Server) == "" || strings.ContainsAny(m.NFS.Server, " \t\n/") {
				errs = append(errs, field.Errorf(mp.Child("nfs").Child("server").String(), "%q must be a host name or IP address", m.NFS.Server))
			}
		default:
			pathField = mp.Child("hostPath").Child("path")
		}
		if perrs := validatePathTemplate(pathField, m.Path(), MountPlaceholders); len(perrs) > 0 {
			errs = append(errs, perrs...)
		} else if m.HostPath != nil && m.HostPath.Path == "/" {
			errs = append(errs, field.Errorf(pathField.String(), `"/" would give every pod the whole node: list the directories users may mount`))
		}
		if m.MountPath != "" {
			errs = append(errs, validatePathTemplate(mp.Child("mountPath"), m.MountPath, MountPlaceholders)...)
		}
	}
	return errs
}
