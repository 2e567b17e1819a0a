package v1alpha1

import (
	"path"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/identity"
	"github.com/peruser-dev/peruser/internal/podrules"
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

// MinSupplementalGID is the smallest GID a pod keeps as a supplemental group. Lower
// GIDs are system groups (0 is root's group, 100 is "users" on many distributions): a
// Hardening that names one is refused, and package harden drops them from the groups a
// Site gives a user.
const MinSupplementalGID = 1000

// Validate checks a Hardening document's shape: its kind, and that the identity is
// given in exactly one way. The values are checked by HardeningSpec.Validate, which
// harden.New calls once the post-renderer's flags are laid over the file (a flag may
// replace a file's value).
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

// Validate checks every value of a Hardening spec at p (spec): the identity, and what
// the hardening adds or allows. harden.New calls it, for both front-ends of the
// post-renderer; the command line names the flags for these paths.
func (s HardeningSpec) Validate(p field.Path) field.List {
	errs := s.Identity.Validate(p.Child("identity"))
	if s.Lifetime != "" {
		errs = append(errs, validateDuration(p.Child("lifetime"), s.Lifetime, positive)...)
	}
	errs = append(errs, validateMap(p.Child("labels"), s.Labels, true)...)
	for i, n := range s.ImagePullSecrets {
		errs = append(errs, dnsSubdomain(p.Child("imagePullSecrets").Index(i), n)...)
	}
	errs = append(errs, validateRegistryRewrites(p.Child("registryRewrites"), s.RegistryRewrites)...)
	for i, t := range s.PodTemplatePaths {
		tp := p.Child("podTemplatePaths").Index(i)
		if t.Kind == "" {
			errs = append(errs, field.Errorf(tp.Child("kind").String(), "required field is missing"))
		}
		if _, err := podrules.ParseTemplatePath(t.Path); err != nil {
			errs = append(errs, field.Errorf(tp.Child("path").String(), "%v", err))
		}
	}
	for i, n := range s.DropInitContainers {
		if msgs := validation.IsDNS1123Label(n); len(msgs) > 0 {
			errs = append(errs, field.Errorf(p.Child("dropInitContainers").Index(i).String(), "must be a container name (lowercase DNS label), got %q", n))
		}
	}
	return append(errs, s.Exceptions.validate(p.Child("exceptions"))...)
}

// validateRegistryRewrites checks each rewrite, and that none rewrites the output of
// another (or its own): hardening must give the same stream when run twice.
func validateRegistryRewrites(p field.Path, rs []RegistryRewrite) field.List {
	var errs field.List
	for i, r := range rs {
		rp := p.Index(i)
		switch {
		case !podrules.IsImagePrefix(r.From):
			errs = append(errs, field.Errorf(rp.Child("from").String(), "must be a registry host or host/path prefix such as docker.io or ghcr.io/org, got %q", r.From))
		case !podrules.IsImagePrefix(r.To) || podrules.FullImageName(r.To+"/x") != r.To+"/x":
			// A target without a registry host would be read as Docker Hub (and be
			// rewritten again by a docker.io rule on the next run).
			errs = append(errs, field.Errorf(rp.Child("to").String(), "must start with a registry host (a name with a dot or port, or localhost), e.g. registry.example.edu/dockerhub, got %q", r.To))
		default:
			// Rewriting docker.io to docker.io/mirror, or a to b and b to c, would rewrite
			// its own output on a second run.
			for j, other := range rs {
				if podrules.IsImagePrefix(other.From) && podrules.HasImagePrefix(r.To, other.From) {
					errs = append(errs, field.Errorf(rp.Child("to").String(), "%q would be rewritten again by from %q (registryRewrites[%d]): the output must be stable", r.To, other.From, j))
					break
				}
			}
		}
	}
	return errs
}

// validate checks the exceptions at p: directories, and volume types the restricted
// level forbids (hostPath goes by directory).
func (ex HardeningExceptions) validate(p field.Path) field.List {
	var errs field.List
	for i, pre := range ex.HostPathPrefixes {
		ip := p.Child("hostPathPrefixes").Index(i).String()
		switch {
		case !strings.HasPrefix(pre, "/"):
			errs = append(errs, field.Errorf(ip, "must be an absolute path such as /users/, got %q", pre))
		case path.Clean(pre) == "/":
			errs = append(errs, field.Errorf(ip, "must not be / (that would allow the whole host file system)"))
		}
	}
	for i, t := range ex.VolumeTypes {
		ip := p.Child("volumeTypes").Index(i).String()
		switch {
		case t == "hostPath":
			errs = append(errs, field.Errorf(ip, "hostPath is allowed by directory, not by type: list the directories in hostPathPrefixes"))
		case slices.Contains(podrules.RestrictedVolumeTypes, t):
			errs = append(errs, field.Errorf(ip, "%s is always allowed; list only types the restricted level forbids", t))
		case !slices.Contains(podrules.OtherVolumeTypes, t):
			errs = append(errs, field.Errorf(ip, "unknown volume type %q; one of %s", t, strings.Join(podrules.OtherVolumeTypes, ", ")))
		}
	}
	return errs
}

// Explicit reports whether the identity is given by ids (uid, gid or supplemental
// groups) rather than, or as well as, by a site's user.
func (id HardeningIdentity) Explicit() bool {
	return id.UID != nil || id.GID != nil || len(id.SupplementalGroups) > 0
}

// Validate checks that the identity is explicit or comes from a site, not both, and
// the ids of an explicit one: the identity rule (package identity) for uid, gid and
// supplemental groups, which must also not be system groups.
func (id HardeningIdentity) Validate(p field.Path) field.List {
	var errs field.List
	explicit := id.Explicit()
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
	case explicit:
		if msg := identity.CheckUID(*id.UID); msg != "" {
			errs = append(errs, field.Errorf(p.Child("uid").String(), "%s", msg))
		}
		if msg := identity.CheckGID(*id.GID); msg != "" {
			errs = append(errs, field.Errorf(p.Child("gid").String(), "%s", msg))
		}
		for i, g := range id.SupplementalGroups {
			gp := p.Child("supplementalGroups").Index(i).String()
			if g < MinSupplementalGID {
				errs = append(errs, field.Errorf(gp, "must be ≥ %d, got %d (lower GIDs are system groups)", MinSupplementalGID, g))
			} else if msg := identity.CheckGID(g); msg != "" {
				errs = append(errs, field.Errorf(gp, "%s", msg))
			}
		}
	}
	return errs
}
