package v1alpha1

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// This file holds the optional features of a site beyond namespaces and RBAC: per-user
// ingress and NFS storage, the reapers, the admission policy, the lifecycle of users who
// leave, and the Open OnDemand cluster config. docs/generators.md explains each one.

// Defaults of the optional features.
const (
	// DefaultIngressService and DefaultIngressPort are the backend every user's Ingress
	// routes to: a Service of that name in the user's namespace.
	DefaultIngressService = "backend"
	DefaultIngressPort    = 80
	// DefaultClaimName is the name of each user's PersistentVolumeClaim.
	DefaultClaimName = "home"
	// DefaultJobPodReaperObjectLabels selects the pods Open OnDemand creates.
	DefaultJobPodReaperObjectLabels = "app.kubernetes.io/managed-by=open-ondemand"
	// DefaultReapAfter and DefaultLastUsedThreshold are k8-namespace-reaper's own defaults.
	DefaultReapAfter         = "168h"
	DefaultLastUsedThreshold = "4h"
	// DefaultOODAuth is the auth type of the OOD cluster config: peruser binds OIDC users.
	DefaultOODAuth = "oidc"
)

// Ingress gives each user the host <slug>.<domain> on the site's ingress controller,
// served with the site's wildcard certificate.
type Ingress struct {
	// Domain is the parent of every user's host: user oakley gets oakley.<domain>.
	Domain string `json:"domain"`
	// ClassName is the Ingress's ingressClassName; empty uses the cluster's default class.
	ClassName string `json:"className,omitempty"`
	// TLSSecretName is the Secret each user's Ingress names for its certificate. The
	// ingress controller reads it from the user's own namespace, so it is only safe with
	// a certificate for that one host (cert-manager's per-host issuance); empty, the
	// Ingress names none and the controller serves its default certificate
	// (ingress-nginx --default-ssl-certificate). See docs/security.md.
	TLSSecretName string `json:"tlsSecretName,omitempty"`
	// SourceRanges, when set, are the only client CIDRs the controller lets through
	// (ingress-nginx's whitelist-source-range annotation).
	SourceRanges []string `json:"sourceRanges,omitempty"`
	// Annotations are added to every user's Ingress (e.g. a cert-manager issuer).
	Annotations map[string]string `json:"annotations,omitempty"`
	// Backend is the Service each user's Ingress routes to. Profiles may override it.
	Backend IngressBackend `json:"backend,omitempty"`
}

// IngressBackend is a Service in the user's namespace.
type IngressBackend struct {
	// Service is the Service's name. Default "backend".
	Service string `json:"service,omitempty"`
	// Port is the Service's port, by number or by name. Default 80.
	Port *ServicePort `json:"port,omitempty"`
}

// ServicePort is a Service port written as a number (8080) or a name ("http").
type ServicePort struct {
	Number int32
	Name   string
}

// UnmarshalJSON accepts a number or a string.
func (p *ServicePort) UnmarshalJSON(b []byte) error {
	var name string
	if err := json.Unmarshal(b, &name); err == nil {
		*p = ServicePort{Name: name}
		return nil
	}
	var n int32
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("port must be a number or a port name, got %s", b)
	}
	*p = ServicePort{Number: n}
	return nil
}

// MarshalJSON writes the number or the name.
func (p ServicePort) MarshalJSON() ([]byte, error) {
	if p.Name != "" {
		return json.Marshal(p.Name)
	}
	return json.Marshal(p.Number)
}

func (p ServicePort) String() string {
	if p.Name != "" {
		return p.Name
	}
	return strconv.Itoa(int(p.Number))
}

// ProfileIngress overrides the site's ingress for a profile's users.
type ProfileIngress struct {
	// Backend fields that are set replace the site's.
	Backend IngressBackend `json:"backend,omitempty"`
}

// Storage gives each user an NFS PersistentVolume (reclaim policy Retain) and a
// PersistentVolumeClaim bound to it in their namespace.
type Storage struct {
	NFS *NFS `json:"nfs"`
	// Capacity is each volume's size, unless the user's profile sets storage.capacity.
	Capacity Quantity `json:"capacity"`
	// MountOptions are the PersistentVolume's mountOptions (e.g. nfsvers=4.1, hard).
	MountOptions []string `json:"mountOptions,omitempty"`
	// ClaimName is the PersistentVolumeClaim's name in each namespace. Default "home".
	// The PersistentVolume is named <namespace>-<claimName>.
	ClaimName string `json:"claimName,omitempty"`
}

// NFS is an NFS export.
type NFS struct {
	// Server is the NFS server's host name or IP address.
	Server string `json:"server"`
	// Path is an absolute path template: {user} is the raw username, {uid} the uid and
	// {slug} the user's DNS-safe slug, e.g. /home/{user}.
	Path string `json:"path"`
}

// ProfileStorage overrides the site's storage for a profile's users.
type ProfileStorage struct {
	Capacity Quantity `json:"capacity,omitempty"`
}

// Reapers configures OSC's job-pod-reaper and k8-namespace-reaper for this site:
// `krm-fn values job-pod-reaper|k8-namespace-reaper SITE.yaml` prints their Helm values.
type Reapers struct {
	JobPodReaper    JobPodReaper    `json:"jobPodReaper,omitempty"`
	NamespaceReaper NamespaceReaper `json:"namespaceReaper,omitempty"`
}

// JobPodReaper is OSC's job-pod-reaper, which deletes pods older than their
// pod.kubernetes.io/lifetime annotation (OOD's walltime).
type JobPodReaper struct {
	// Enabled binds the reaper's ServiceAccount in every user namespace.
	Enabled bool `json:"enabled,omitempty"`
	// Namespace and ServiceAccount are where the reaper runs. Default job-pod-reaper.
	Namespace      string `json:"namespace,omitempty"`
	ServiceAccount string `json:"serviceAccount,omitempty"`
	// ObjectLabels are label selectors of the pods to reap; a pod matching any of them
	// is considered. Default [app.kubernetes.io/managed-by=open-ondemand]; [] means all pods.
	ObjectLabels []string `json:"objectLabels,omitempty"`
}

// NamespaceReaper is OSC's k8-namespace-reaper, which deletes namespaces in which no
// pod has run for ReapAfter.
type NamespaceReaper struct {
	Enabled bool `json:"enabled,omitempty"`
	// ReapAfter is the minimum age and idle time of a namespace to reap. Default 168h.
	ReapAfter string `json:"reapAfter,omitempty"`
	// LastUsedThreshold spares namespaces whose LastUsedAnnotation is more recent.
	// Default 4h.
	LastUsedThreshold string `json:"lastUsedThreshold,omitempty"`
	// LastUsedAnnotation is a namespace annotation holding a Unix timestamp of last use
	// (OOD's hook writes openondemand.org/last-hook-execution). Empty: not used.
	LastUsedAnnotation string `json:"lastUsedAnnotation,omitempty"`
	// PrometheusAddress is the Prometheus (with kube-state-metrics) the reaper asks
	// which namespaces ran pods recently; the reaper requires it.
	PrometheusAddress string `json:"prometheusAddress,omitempty"`
}

// Admission configures the policies that pin pods to the user's UID/GID.
type Admission struct {
	// ValidatingAdmissionPolicy emits a ValidatingAdmissionPolicy and its binding that
	// deny pods in user namespaces whose identity differs from the namespace's.
	ValidatingAdmissionPolicy bool `json:"validatingAdmissionPolicy,omitempty"`
	// StrictSupplementalGroups, with ValidatingAdmissionPolicy, also emits a
	// MutatingAdmissionPolicy that defaults every user pod's supplementalGroupsPolicy to
	// Strict, and has the validating policy deny any other value. Default true; false
	// only for clusters whose container runtime lacks Strict (admission.go).
	StrictSupplementalGroups *bool `json:"strictSupplementalGroups,omitempty"`
	// ServiceTypes, with ValidatingAdmissionPolicy, are the Service types users may
	// create: ClusterIP and NodePort. Default both. ExternalName and LoadBalancer are
	// never allowed, nor externalIPs (admission.go).
	ServiceTypes   []string        `json:"serviceTypes,omitempty"`
	LDAPConfigMaps *LDAPConfigMaps `json:"ldapConfigMaps,omitempty"`
}

// Lifecycle says what happens to the objects of a user who leaves the spec or the
// directory.
type Lifecycle struct {
	// PruneProtection annotates each user's Namespace, PersistentVolumeClaim and
	// PersistentVolume so that Argo CD and Flux never prune them: removing a user revokes
	// access at the next sync but deletes no data. Default true.
	PruneProtection *bool `json:"pruneProtection,omitempty"`
}

// OpenOnDemand is what `krm-fn ood-cluster SITE.yaml` needs beyond the rest of the
// spec to write OOD's clusters.d file for its Kubernetes adapter.
type OpenOnDemand struct {
	// Cluster is the cluster's id (the clusters.d file name) and the kubeconfig cluster
	// name OOD writes. Default: the Site's name.
	Cluster string `json:"cluster,omitempty"`
	// Title is shown in the OOD dashboard. Default: Cluster.
	Title string `json:"title,omitempty"`
	// Server is the Kubernetes API server.
	Server OODServer `json:"server"`
	// Auth is OOD's auth type: oidc (OOD sets the kubeconfig context for the user) or
	// managed (the kubeconfig is set up outside OOD). Default oidc.
	Auth string `json:"auth,omitempty"`
	// UsernamePrefix is OOD's username_prefix, the prefix of the user entry in the
	// kubeconfig (OOD's hook.env K8S_USERNAME_PREFIX). Default: spec.rbac.subjectPrefix.
	UsernamePrefix *string `json:"usernamePrefix,omitempty"`
	// AutoSupplementalGroups makes OOD put the user's groups (GID ≥ 1000) in every pod's
	// supplementalGroups. Default true.
	AutoSupplementalGroups *bool `json:"autoSupplementalGroups,omitempty"`
	// Bin and ConfigFile are kubectl and the kubeconfig on the OOD web node; empty uses
	// OOD's defaults (/usr/bin/kubectl, ~/.kube/config).
	Bin        string `json:"bin,omitempty"`
	ConfigFile string `json:"configFile,omitempty"`
}

// OODServer is the API server as OOD's Kubernetes adapter addresses it.
type OODServer struct {
	Endpoint          string `json:"endpoint"`
	CertAuthorityFile string `json:"certAuthorityFile,omitempty"`
}

// PruneProtected reports whether user data objects carry the GitOps prune protection.
func (l Lifecycle) PruneProtected() bool { return l.PruneProtection == nil || *l.PruneProtection }

// IngressBackendFor is the backend of a user of profile (may be ""): the site's,
// with the fields the profile sets replaced.
func (s *Site) IngressBackendFor(profile string) (service string, port ServicePort) {
	b := s.Spec.Ingress.Backend
	service, port = b.Service, *b.Port
	if p, ok := s.Spec.Profiles[profile]; ok && p.Ingress != nil {
		if p.Ingress.Backend.Service != "" {
			service = p.Ingress.Backend.Service
		}
		if p.Ingress.Backend.Port != nil {
			port = *p.Ingress.Backend.Port
		}
	}
	return service, port
}

// StorageCapacityFor is the volume capacity of a user of profile (may be "").
func (s *Site) StorageCapacityFor(profile string) Quantity {
	if p, ok := s.Spec.Profiles[profile]; ok && p.Storage != nil && p.Storage.Capacity != "" {
		return p.Storage.Capacity
	}
	return s.Spec.Storage.Capacity
}

// defaultFeatures fills in the optional features' defaults; Default calls it.
func (s *Site) defaultFeatures() {
	if in := s.Spec.Ingress; in != nil {
		if in.Backend.Service == "" {
			in.Backend.Service = DefaultIngressService
		}
		if in.Backend.Port == nil {
			in.Backend.Port = &ServicePort{Number: DefaultIngressPort}
		}
	}
	if st := s.Spec.Storage; st != nil && st.ClaimName == "" {
		st.ClaimName = DefaultClaimName
	}
	jpr := &s.Spec.Reapers.JobPodReaper
	if jpr.ObjectLabels == nil {
		jpr.ObjectLabels = []string{DefaultJobPodReaperObjectLabels}
	}
	nr := &s.Spec.Reapers.NamespaceReaper
	if nr.ReapAfter == "" {
		nr.ReapAfter = DefaultReapAfter
	}
	if nr.LastUsedThreshold == "" {
		nr.LastUsedThreshold = DefaultLastUsedThreshold
	}
	if s.Spec.Lifecycle.PruneProtection == nil {
		s.Spec.Lifecycle.PruneProtection = ptr(true)
	}
	if ood := s.Spec.OpenOnDemand; ood != nil {
		if ood.Cluster == "" {
			ood.Cluster = s.Metadata.Name
		}
		if ood.Title == "" {
			ood.Title = ood.Cluster
		}
		if ood.Auth == "" {
			ood.Auth = DefaultOODAuth
		}
		if ood.UsernamePrefix == nil {
			ood.UsernamePrefix = ptr(s.Spec.RBAC.SubjectPrefix)
		}
		if ood.AutoSupplementalGroups == nil {
			ood.AutoSupplementalGroups = ptr(true)
		}
	}
}
