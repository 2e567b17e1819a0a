package v1alpha1

// Defaults that match Open OnDemand's bootstrap hook, so a site can switch to peruser
// without renaming anything.
const (
	DefaultNamespacePrefix           = "user-"
	DefaultNaming                    = "ood"
	DefaultPodSecurity               = "restricted"
	DefaultUserClusterRole           = "ood-user"
	DefaultServiceAccountClusterRole = "ood-initializer"
	DefaultRegistrySecretName        = "private-docker-registry"
	DefaultJobPodReaperNamespace     = "job-pod-reaper"
	DefaultJobPodReaperSA            = "job-pod-reaper"
	// DefaultProfile is used for users who name no profile and match no profile group.
	DefaultProfile = "default"
)

// Default fills in every optional field left unset. It is idempotent.
func (s *Site) Default() {
	ns := &s.Spec.Namespace
	if ns.Prefix == nil {
		ns.Prefix = ptr(DefaultNamespacePrefix)
	}
	if ns.PodSecurity == nil {
		ns.PodSecurity = ptr(DefaultPodSecurity)
	}
	if ns.Naming == "" {
		ns.Naming = DefaultNaming
	}
	if ns.Labels == nil {
		ns.Labels = DefaultNamespaceLabels()
	}
	r := &s.Spec.RBAC
	if r.UserClusterRole == "" {
		r.UserClusterRole = DefaultUserClusterRole
	}
	if r.ServiceAccountClusterRole == "" {
		r.ServiceAccountClusterRole = DefaultServiceAccountClusterRole
	}
	if d := s.Spec.Directory; d != nil {
		d.Default()
	}
	if reg := s.Spec.Registry; reg != nil {
		if reg.SecretName == "" {
			reg.SecretName = DefaultRegistrySecretName
		}
		if es := reg.ExternalSecret; es != nil {
			if es.APIVersion == "" {
				es.APIVersion = "external-secrets.io/v1"
			}
			if es.StoreRef.Kind == "" {
				es.StoreRef.Kind = "ClusterSecretStore"
			}
			if es.RefreshInterval == "" {
				es.RefreshInterval = "1h"
			}
		}
	}
	jpr := &s.Spec.Reapers.JobPodReaper
	if jpr.Namespace == "" {
		jpr.Namespace = DefaultJobPodReaperNamespace
	}
	if jpr.ServiceAccount == "" {
		jpr.ServiceAccount = DefaultJobPodReaperSA
	}
	s.defaultFeatures() // features.go
	for i := range s.Spec.Mounts {
		if hp := s.Spec.Mounts[i].HostPath; hp != nil && hp.Type == "" {
			hp.Type = "Directory"
		}
	}
}

// DefaultNamespaceLabels are the labels of user namespaces when the site sets none:
// the label OOD's hook writes, which OSC's job-pod-reaper deployment for OOD selects on.
func DefaultNamespaceLabels() map[string]string {
	return map[string]string{"app.kubernetes.io/name": "open-ondemand"}
}

func ptr[T any](v T) *T { return &v }
