package v1alpha1

import (
	"github.com/peruser-dev/peruser/field"
)

// HardeningKind is the kind of the hardening transformer's functionConfig, which is also
// the file format of the post-renderer's --config.
const HardeningKind = "Hardening"

// Hardening configures the post-renderer and the hardening KRM transformer: whose
// identity pods run as, and what else to add or allow. It is its own kind, not part of
// Site, because it is applied per chart (or per kustomization), while a Site describes
// every user; with Identity.Site it reads the user's uid, gid and groups from a Site.
type Hardening struct {
	APIVersion string        `json:"apiVersion"`
	Kind       string        `json:"kind"`
	Metadata   ObjectMeta    `json:"metadata"`
	Spec       HardeningSpec `json:"spec"`
}

// HardeningSpec is what the post-renderer's flags also set; each field names its flag.
type HardeningSpec struct {
	// Identity is the user the pods run as.
	Identity HardeningIdentity `json:"identity"`
	// Lifetime (--lifetime), e.g. 8h, becomes the pod.kubernetes.io/lifetime annotation
	// on every pod template, which OSC's job-pod-reaper acts on.
	Lifetime string `json:"lifetime,omitempty"`
	// Labels (--label k=v) are added to every pod template and the object holding it.
	Labels map[string]string `json:"labels,omitempty"`
	// ImagePullSecrets (--image-pull-secret) are added to every pod.
	ImagePullSecrets []string `json:"imagePullSecrets,omitempty"`
	// RegistryRewrites (--registry-rewrite from=to) rewrite image registries.
	RegistryRewrites []RegistryRewrite `json:"registryRewrites,omitempty"`
	// PodTemplatePaths (--pod-template-path Kind[.group]=path) add places where custom
	// resources keep pod templates.
	PodTemplatePaths []PodTemplatePath `json:"podTemplatePaths,omitempty"`
	// Exceptions are what the site allows although the restricted level forbids it.
	Exceptions HardeningExceptions `json:"exceptions,omitempty"`
	// AllowDowngrade (--allow-downgrade) accepts that containers asking for privileged:
	// true, root (runAsUser 0) or added capabilities other than NET_BIND_SERVICE are
	// rewritten to run unprivileged as the user. Without it such a container is refused,
	// since the rewrite would break it at run time (a chown -R as root, a sysctl).
	AllowDowngrade bool `json:"allowDowngrade,omitempty"`
	// DropInitContainers (--drop-init-container) removes the init containers of these
	// names from every pod template, e.g. a chart's volume-permissions container.
	DropInitContainers []string `json:"dropInitContainers,omitempty"`
	// Verify (--verify) checks every hardened pod with Pod Security Admission at level
	// restricted. Default true.
	Verify *bool `json:"verify,omitempty"`
}

// HardeningIdentity is either explicit (UID, GID, SupplementalGroups) or a user of a
// Site, found by name (User) or by namespace (Namespace).
type HardeningIdentity struct {
	// UID (--uid) and GID (--gid) are the user's; 0 (root) is refused. Pointers, so
	// that an explicit 0 is reported as root rather than as missing.
	UID *int64 `json:"uid,omitempty"`
	GID *int64 `json:"gid,omitempty"`
	// SupplementalGroups (--supplemental-groups) become every pod's supplementalGroups.
	SupplementalGroups []int64 `json:"supplementalGroups,omitempty"`
	// Site (--site) is a Site spec file, relative to this file's directory (under
	// kustomize: the kustomization's directory).
	Site string `json:"site,omitempty"`
	// User (--user) is a username of the site.
	User string `json:"user,omitempty"`
	// Namespace (--namespace) is a user namespace of the site.
	Namespace string `json:"namespace,omitempty"`
}

// RegistryRewrite replaces the registry prefix From of image references by To.
type RegistryRewrite struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// PodTemplatePath locates pod templates in a custom resource kind.
type PodTemplatePath struct {
	// Group is the API group; empty matches any group.
	Group string `json:"group,omitempty"`
	Kind  string `json:"kind"`
	// Path is a dotted field path to the template; "*" is every key or list item.
	Path string `json:"path"`
}

// HardeningExceptions are named exceptions a site allows on purpose.
type HardeningExceptions struct {
	// HostPathPrefixes (--allow-host-path) allow hostPath volumes under these
	// directories, e.g. /users/, /fs/, /apps/.
	HostPathPrefixes []string `json:"hostPathPrefixes,omitempty"`
	// VolumeTypes (--allow-volume-type) allow volume types the restricted level
	// forbids, e.g. nfs.
	VolumeTypes []string `json:"volumeTypes,omitempty"`
}

// VerifyEnabled reports whether Pod Security verification is on (the default).
func (s HardeningSpec) VerifyEnabled() bool { return s.Verify == nil || *s.Verify }

// Validate checks the shape of a Hardening: its kind, and that the identity is given in
// exactly one way. The values themselves (uid ≥ 1, label syntax, paths) are checked by
// package harden, which reports them at the same paths.
func (h *Hardening) Validate() field.List {
	var errs field.List
	if h.APIVersion != APIVersion {
		errs = append(errs, field.Errorf("apiVersion", "must be %q, got %q", APIVersion, h.APIVersion))
	}
	if h.Kind != HardeningKind {
		errs = append(errs, field.Errorf("kind", "must be %q, got %q", HardeningKind, h.Kind))
	}
	return append(errs, h.Spec.Identity.Validate(field.Path("spec").Child("identity"))...)
}

// Validate checks that the identity is explicit or comes from a site, not both.
func (id HardeningIdentity) Validate(p field.Path) field.List {
	var errs field.List
	explicit := id.UID != nil || id.GID != nil || len(id.SupplementalGroups) > 0
	switch {
	case id.Site == "" && (id.User != "" || id.Namespace != ""):
		errs = append(errs, field.Errorf(p.Child("site").String(), "required with user or namespace"))
	case id.Site != "" && explicit:
		errs = append(errs, field.Errorf(p.Child("site").String(), "give either uid/gid/supplementalGroups or site with user or namespace, not both"))
	case id.Site != "" && id.User == "" && id.Namespace == "":
		errs = append(errs, field.Errorf(p.Child("user").String(), "site needs user or namespace to pick the user"))
	case id.Site != "" && id.User != "" && id.Namespace != "":
		errs = append(errs, field.Errorf(p.Child("namespace").String(), "give user or namespace, not both"))
	case id.Site == "" && explicit && id.UID == nil:
		errs = append(errs, field.Errorf(p.Child("uid").String(), "required (with gid or supplementalGroups)"))
	case id.Site == "" && explicit && id.GID == nil:
		errs = append(errs, field.Errorf(p.Child("gid").String(), "required (with uid)"))
	case id.Site == "" && !explicit:
		errs = append(errs, field.Errorf(p.String(), "give uid and gid (never 0, which is root), or site with user or namespace"))
	}
	return errs
}
