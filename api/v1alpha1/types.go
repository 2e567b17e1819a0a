package v1alpha1

import (
	"encoding/json"
	"fmt"
	"net/netip"
)

const (
	// GroupName is the API group of every peruser kind.
	GroupName = "peruser.dev"
	// Version is the API version of this package.
	Version = "v1alpha1"
	// APIVersion is the apiVersion field of every kind in this package.
	APIVersion = GroupName + "/" + Version
	// SiteKind is the kind of the function config.
	SiteKind = "Site"
)

// Site describes a site: how user namespaces are named and what each one holds, and
// who the users are (inline, or resolved from a directory).
type Site struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Metadata   ObjectMeta `json:"metadata"`
	Spec       SiteSpec   `json:"spec"`
}

// ObjectMeta is the part of Kubernetes object metadata a Site uses.
type ObjectMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// SiteSpec is the whole contract of a site (docs/spec.md is generated from its schema).
type SiteSpec struct {
	Namespace     NamespaceSpec      `json:"namespace,omitempty"`
	RBAC          RBAC               `json:"rbac,omitempty"`
	Users         []User             `json:"users,omitempty"`
	Directory     *Directory         `json:"directory,omitempty"`
	Profiles      map[string]Profile `json:"profiles,omitempty"`
	NetworkPolicy NetworkPolicy      `json:"networkPolicy,omitempty"`
	Registry      *Registry          `json:"registry,omitempty"`
	Ingress       *Ingress           `json:"ingress,omitempty"`
	Storage       *Storage           `json:"storage,omitempty"`
	Reapers       Reapers            `json:"reapers,omitempty"`
	Admission     Admission          `json:"admission,omitempty"`
	Lifecycle     Lifecycle          `json:"lifecycle,omitempty"`
	OpenOnDemand  *OpenOnDemand      `json:"openOnDemand,omitempty"`
	Sharding      *Sharding          `json:"sharding,omitempty"`
	// Mounts are the host and NFS volumes users' pods may mount (mounts.go).
	Mounts []Mount `json:"mounts,omitempty"`
	// MinUsers: fewer resolved users (inline and directory together) is an error, so a
	// site never renders empty or shrunken by mistake. See minusers.go.
	MinUsers *int `json:"minUsers,omitempty"`
}

// NamespaceSpec says how each user's namespace is named and labelled.
type NamespaceSpec struct {
	// Prefix is prepended to the user's slug (OOD's namespace_prefix). Default "user-".
	Prefix *string `json:"prefix,omitempty"`
	// Labels and Annotations are added to every user namespace.
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// PodSecurity is the Pod Security Admission level written to the enforce, audit and
	// warn labels. Default "restricted"; "" omits the labels.
	PodSecurity *string `json:"podSecurity,omitempty"`
	// Naming is the username→namespace rule: "ood" (Open OnDemand's, the default),
	// "kubespawner" (JupyterHub KubeSpawner's safe slug) or "hashed" (see package naming).
	Naming string `json:"naming,omitempty"`
	// SkipInvalidUsers leaves out, with a warning naming each, the users the naming rule
	// cannot give a valid namespace of their own, instead of failing the render.
	SkipInvalidUsers bool `json:"skipInvalidUsers,omitempty"`
}

// RBAC names the roles bound in each user namespace.
type RBAC struct {
	// SubjectPrefix is the apiserver's OIDC username prefix (--oidc-username-prefix).
	SubjectPrefix string `json:"subjectPrefix,omitempty"`
	// UserClusterRole is bound to the user. Default "ood-user".
	UserClusterRole string `json:"userClusterRole,omitempty"`
	// ServiceAccountClusterRole is bound to the namespace's default ServiceAccount.
	// Default "ood-initializer".
	ServiceAccountClusterRole string `json:"serviceAccountClusterRole,omitempty"`
	// ClusterRoles also emits the ClusterRoles themselves.
	ClusterRoles bool `json:"clusterRoles,omitempty"`
}

// User is a user listed inline. Inline users win over directory data of the same name.
type User struct {
	Name    string  `json:"name"`
	UID     int64   `json:"uid"`
	GID     int64   `json:"gid"`
	Groups  []Group `json:"groups,omitempty"`
	Profile string  `json:"profile,omitempty"`
}

// Group is a POSIX group a user belongs to.
type Group struct {
	Name string `json:"name"`
	GID  int64  `json:"gid"`
}

// Profile is a set of resource limits; users get one by name or by group membership.
type Profile struct {
	// Groups picks this profile for members of any of these groups.
	Groups []string  `json:"groups,omitempty"`
	Quota  Resources `json:"quota,omitempty"`
	Limits *Limits   `json:"limits,omitempty"`
	// Ingress and Storage override the site's per-user ingress backend and volume
	// capacity for this profile's users (features.go).
	Ingress *ProfileIngress `json:"ingress,omitempty"`
	Storage *ProfileStorage `json:"storage,omitempty"`
}

// Limits is the container LimitRange of a profile.
type Limits struct {
	DefaultRequest Resources `json:"defaultRequest,omitempty"`
	Default        Resources `json:"default,omitempty"`
	Max            Resources `json:"max,omitempty"`
	Min            Resources `json:"min,omitempty"`
}

// Resources maps resource names to quantities, as in a ResourceQuota's hard list.
type Resources map[string]Quantity

// Quantity is a Kubernetes quantity written as a string or a number ("4", 4, 500m).
type Quantity string

// UnmarshalJSON accepts both strings and numbers, because YAML users write `pods: 20`.
func (q *Quantity) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*q = Quantity(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("quantity must be a string or a number, got %s", b)
	}
	*q = Quantity(n.String())
	return nil
}

// NetworkPolicy configures each namespace's deny-from-other-namespaces policy.
type NetworkPolicy struct {
	// AllowCIDRs may reach user pods (OOD's NETWORK_POLICY_ALLOW_CIDR: the web nodes).
	AllowCIDRs []string `json:"allowCIDRs,omitempty"`
	// AllowNamespaces may reach user pods (e.g. the ingress controller's namespace).
	AllowNamespaces []string `json:"allowNamespaces,omitempty"`
	Egress          Egress   `json:"egress,omitempty"`
}

// Egress optionally denies egress by default, keeping DNS and the listed CIDRs.
type Egress struct {
	Restrict   bool     `json:"restrict,omitempty"`
	AllowCIDRs []string `json:"allowCIDRs,omitempty"`
	// DNSAddresses are further resolvers reachable on port 53 only, such as NodeLocal
	// DNSCache's link-local 169.254.20.10: it runs on the host network, so the kube-system
	// pod selector does not match it. An address becomes a /32 (or /128) ipBlock.
	DNSAddresses []string `json:"dnsAddresses,omitempty"`
}

// DNSCIDR is a dnsAddresses entry as an ipBlock CIDR: a CIDR unchanged, a bare address
// as a single-host prefix. Validate checks the entries first.
func DNSCIDR(s string) string {
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a, a.BitLen()).String()
	}
	return s
}

// Registry is the image pull secret given to every user namespace. Its content is read
// at render time from a file or an environment variable, never written in the spec.
type Registry struct {
	// SecretName is the Secret's name. Default "private-docker-registry".
	SecretName string `json:"secretName,omitempty"`
	// DockerConfigJSONFile is read relative to the working directory (the
	// kustomization's directory under kustomize).
	DockerConfigJSONFile string `json:"dockerConfigJSONFile,omitempty"`
	// DockerConfigJSONEnv names an environment variable holding the docker config.
	DockerConfigJSONEnv string `json:"dockerConfigJSONEnv,omitempty"`
	// ExternalSecret, instead, has the External Secrets Operator make the Secret in each
	// user namespace, so no credential is ever in the rendered output.
	ExternalSecret *ExternalSecret `json:"externalSecret,omitempty"`
}

// ExternalSecret points at the docker config in an External Secrets Operator store.
type ExternalSecret struct {
	// APIVersion of the ExternalSecret. Default "external-secrets.io/v1".
	APIVersion string   `json:"apiVersion,omitempty"`
	StoreRef   StoreRef `json:"storeRef"`
	// Key and Property locate the docker config JSON in the store.
	Key      string `json:"key"`
	Property string `json:"property,omitempty"`
	// RefreshInterval is a Go duration. Default "1h".
	RefreshInterval string `json:"refreshInterval,omitempty"`
}

// StoreRef names a SecretStore or ClusterSecretStore.
type StoreRef struct {
	Name string `json:"name"`
	// Kind is ClusterSecretStore (default) or SecretStore.
	Kind string `json:"kind,omitempty"`
}

// Directory, DirectorySearch, UserSearch and Attributes are in directory.go.

// Ingress, Storage, Reapers, Admission, Lifecycle and OpenOnDemand are in features.go.

// LDAPConfigMaps is in directory.go.
