package harden

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/identity"
)

// Identity is the POSIX identity every hardened pod runs as.
type Identity struct {
	UID, GID int64
	// SupplementalGroups, when non-nil, becomes every pod's supplementalGroups (only
	// GIDs ≥ MinSupplementalGID, sorted, without duplicates). When nil, any
	// supplementalGroups a chart sets are removed: a user's pods carry only the groups
	// the site gives the user, which is what the admission policy checks.
	SupplementalGroups []int64
	// KeepGroupsPolicy leaves supplementalGroupsPolicy as the chart wrote it, for a
	// site that turned Strict off (spec.admission.strictSupplementalGroups: false)
	// because its container runtime lacks it. Otherwise every pod gets Strict: with
	// Merge, the default, the runtime adds the groups the image's /etc/group gives the
	// uid, which no admission check can see.
	KeepGroupsPolicy bool
}

// MinSupplementalGID is the smallest GID kept as a supplemental group. Lower GIDs are
// system groups (0 is root's group, 100 is "users" on many distributions).
const MinSupplementalGID = 1000

// Options says how to harden. The zero value of every optional field means "off";
// verification is on unless NoVerify is set.
type Options struct {
	Identity Identity
	// Lifetime, e.g. "8h", is written as the pod.kubernetes.io/lifetime annotation on
	// every pod template for OSC's job-pod-reaper. It must parse as a Go duration.
	Lifetime string
	// Labels are added to every pod template and to the object that carries it (the
	// labels the reapers select on).
	Labels map[string]string
	// ImagePullSecrets are appended to every pod's imagePullSecrets when missing.
	ImagePullSecrets []string
	// RegistryRewrites rewrite image references; the longest matching From wins.
	RegistryRewrites []RegistryRewrite
	// PodTemplatePaths are extra places where pod templates live, for custom resources
	// the built-in shapes do not find.
	PodTemplatePaths []PodTemplatePath
	// Exceptions are what a site allows although the restricted level forbids it.
	Exceptions Exceptions
	// AllowDowngrade rewrites containers that ask for privileged, root or added
	// capabilities like any other; without it they are refused (see downgrade.go).
	AllowDowngrade bool
	// DropInitContainers are names of init containers removed from every pod template
	// before anything else is checked.
	DropInitContainers []string
	// NoVerify skips the Pod Security Admission check of the hardened templates.
	NoVerify bool
}

// RegistryRewrite replaces the registry (or registry/path) prefix From of an image
// reference by To: docker.io → registry.example.edu/dockerhub.
type RegistryRewrite struct{ From, To string }

// PodTemplatePath locates pod templates in a kind. Path is a dotted field path to a
// template (an object with metadata and spec); "*" stands for every key of a mapping or
// every item of a list: TFJob in group kubeflow.org, spec.tfReplicaSpecs.*.template.
type PodTemplatePath struct {
	// Group is the API group; empty matches any group.
	Group string
	Kind  string
	Path  string
}

// Exceptions name what a site allows on purpose. Everything else that the restricted
// level forbids and hardening cannot fix is an error.
type Exceptions struct {
	// HostPathPrefixes allows hostPath volumes under these directories, e.g. OSC's
	// /users/, /fs/, /apps/. Paths are compared after cleaning, so "/users/../etc" is
	// /etc and does not match.
	HostPathPrefixes []string
	// VolumeTypes allows volume types outside the restricted list, e.g. "nfs".
	VolumeTypes []string
}

// restrictedVolumeTypes are the volume sources the restricted level allows
// (k8s.io/pod-security-admission, check restrictedVolumes).
var restrictedVolumeTypes = []string{
	"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image",
	"persistentVolumeClaim", "projected", "secret",
}

// otherVolumeTypes are the remaining volume sources of the core API, which a site may
// allow by name.
var otherVolumeTypes = []string{
	"awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "fc", "flexVolume",
	"flocker", "gcePersistentDisk", "gitRepo", "glusterfs", "hostPath", "iscsi", "nfs",
	"photonPersistentDisk", "portworxVolume", "quobyte", "rbd", "scaleIO", "storageos",
	"vsphereVolume",
}

// Validate checks the options. Paths are those of the Hardening spec (see
// api/v1alpha1), so the KRM front-end can report them as they are and the command line
// can map them to its flags.
func (o *Options) Validate() field.List {
	var errs field.List
	id := field.Path("identity")
	if msg := identity.CheckUID(o.Identity.UID); msg != "" {
		errs = append(errs, field.Errorf(id.Child("uid").String(), "%s", msg))
	}
	if msg := identity.CheckGID(o.Identity.GID); msg != "" {
		errs = append(errs, field.Errorf(id.Child("gid").String(), "%s", msg))
	}
	for i, g := range o.Identity.SupplementalGroups {
		p := id.Child("supplementalGroups").Index(i).String()
		if msg := identity.CheckGID(g); msg != "" && g >= MinSupplementalGID {
			errs = append(errs, field.Errorf(p, "%s", msg))
		} else if g < MinSupplementalGID {
			errs = append(errs, field.Errorf(p, "must be ≥ %d, got %d (lower GIDs are system groups)", MinSupplementalGID, g))
		}
	}
	if o.Lifetime != "" {
		if d, err := time.ParseDuration(o.Lifetime); err != nil || d <= 0 {
			errs = append(errs, field.Errorf("lifetime", "must be a positive Go duration such as 8h or 90m, got %q", o.Lifetime))
		}
	}
	for _, k := range sortedKeys(o.Labels) {
		if msg := labelProblem(k, o.Labels[k]); msg != "" {
			errs = append(errs, field.Errorf(field.Path("labels").Key(k).String(), "%s", msg))
		}
	}
	for i, s := range o.ImagePullSecrets {
		if !isDNSSubdomain(s) {
			errs = append(errs, field.Errorf(field.Path("imagePullSecrets").Index(i).String(), "must be a Secret name (lowercase DNS subdomain), got %q", s))
		}
	}
	for i, r := range o.RegistryRewrites {
		p := field.Path("registryRewrites").Index(i)
		switch {
		case !isImagePrefix(r.From):
			errs = append(errs, field.Errorf(p.Child("from").String(), "must be a registry host or host/path prefix such as docker.io or ghcr.io/org, got %q", r.From))
		case !isImagePrefix(r.To) || fullImageName(r.To+"/x") != r.To+"/x":
			// A target without a registry host would be read as Docker Hub (and be
			// rewritten again by a docker.io rule on the next run).
			errs = append(errs, field.Errorf(p.Child("to").String(), "must start with a registry host (a name with a dot or port, or localhost), e.g. registry.example.edu/dockerhub, got %q", r.To))
		default:
			// Rewriting docker.io to docker.io/mirror, or a to b and b to c, would rewrite
			// its own output on a second run; hardening must be idempotent.
			for j, other := range o.RegistryRewrites {
				if isImagePrefix(other.From) && hasImagePrefix(r.To, other.From) {
					errs = append(errs, field.Errorf(p.Child("to").String(), "%q would be rewritten again by from %q (registryRewrites[%d]): the output must be stable", r.To, other.From, j))
					break
				}
			}
		}
	}
	for i, t := range o.PodTemplatePaths {
		p := field.Path("podTemplatePaths").Index(i)
		if t.Kind == "" {
			errs = append(errs, field.Errorf(p.Child("kind").String(), "required field is missing"))
		}
		if _, err := parseTemplatePath(t.Path); err != nil {
			errs = append(errs, field.Errorf(p.Child("path").String(), "%v", err))
		}
	}
	for i, n := range o.DropInitContainers {
		if msgs := validation.IsDNS1123Label(n); len(msgs) > 0 {
			errs = append(errs, field.Errorf(field.Path("dropInitContainers").Index(i).String(), "must be a container name (lowercase DNS label), got %q", n))
		}
	}
	ex := field.Path("exceptions")
	for i, pre := range o.Exceptions.HostPathPrefixes {
		p := ex.Child("hostPathPrefixes").Index(i).String()
		switch {
		case !strings.HasPrefix(pre, "/"):
			errs = append(errs, field.Errorf(p, "must be an absolute path such as /users/, got %q", pre))
		case path.Clean(pre) == "/":
			errs = append(errs, field.Errorf(p, "must not be / (that would allow the whole host file system)"))
		}
	}
	for i, t := range o.Exceptions.VolumeTypes {
		p := ex.Child("volumeTypes").Index(i).String()
		switch {
		case t == "hostPath":
			errs = append(errs, field.Errorf(p, "hostPath is allowed by directory, not by type: list the directories in hostPathPrefixes"))
		case slices.Contains(restrictedVolumeTypes, t):
			errs = append(errs, field.Errorf(p, "%s is always allowed; list only types the restricted level forbids", t))
		case !slices.Contains(otherVolumeTypes, t):
			errs = append(errs, field.Errorf(p, "unknown volume type %q; one of %s", t, strings.Join(otherVolumeTypes, ", ")))
		}
	}
	return errs
}

// normalizedSupplementalGroups returns the groups to set: GIDs ≥ MinSupplementalGID,
// sorted and unique; nil when the identity asks for none.
func (id Identity) normalizedSupplementalGroups() []int64 {
	if id.SupplementalGroups == nil {
		return nil
	}
	out := []int64{}
	for _, g := range id.SupplementalGroups {
		if g >= MinSupplementalGID {
			out = append(out, g)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// labelProblem checks a label with the apiserver's own rules; "" when it is valid.
func labelProblem(k, v string) string {
	if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
		return fmt.Sprintf("key name %q is not a valid label key: %s", k, strings.Join(msgs, "; "))
	}
	if msgs := validation.IsValidLabelValue(v); len(msgs) > 0 {
		return fmt.Sprintf("value %q is not a valid label value: %s", v, strings.Join(msgs, "; "))
	}
	return ""
}

func isDNSSubdomain(s string) bool { return len(validation.IsDNS1123Subdomain(s)) == 0 }

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
