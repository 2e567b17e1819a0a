package v1alpha1

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/peruser-dev/peruser/field"
)

// The apiserver's rules for resource names in a ResourceQuota's hard list and a
// LimitRange's limits, as in k8s.io/kubernetes v1.37 pkg/apis/core/validation
// (ValidateResourceQuotaResourceName, validateResourceName) and pkg/apis/core/helper
// (standardQuotaResources, standardResources, IsQuotaHugePageResourceName). That
// package cannot be imported outside k8s.io/kubernetes, so the sets are spelt here
// from k8s.io/api's constants; the e2e suite applies every fixture to a real
// apiserver so that a drift shows.

// standardQuotaResources are the quota resource names without a domain.
var standardQuotaResources = setOf(
	corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage,
	corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, corev1.ResourceRequestsStorage,
	corev1.ResourceRequestsEphemeralStorage, corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory,
	corev1.ResourceLimitsEphemeralStorage, corev1.ResourcePods, corev1.ResourceQuotas,
	corev1.ResourceServices, corev1.ResourceReplicationControllers, corev1.ResourceSecrets,
	corev1.ResourcePersistentVolumeClaims, corev1.ResourceConfigMaps,
	corev1.ResourceServicesNodePorts, corev1.ResourceServicesLoadBalancers,
)

// standardResources are the container resource names without a domain (LimitRange).
var standardResources = setOf(
	corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage,
	corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, corev1.ResourceRequestsEphemeralStorage,
	corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory, corev1.ResourceLimitsEphemeralStorage,
	corev1.ResourcePods, corev1.ResourceQuotas, corev1.ResourceServices,
	corev1.ResourceReplicationControllers, corev1.ResourceSecrets, corev1.ResourceConfigMaps,
	corev1.ResourcePersistentVolumeClaims, corev1.ResourceStorage, corev1.ResourceRequestsStorage,
	corev1.ResourceServicesNodePorts, corev1.ResourceServicesLoadBalancers,
)

func setOf(names ...corev1.ResourceName) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[string(n)] = true
	}
	return m
}

func isHugePages(name string) bool {
	return strings.HasPrefix(name, corev1.ResourceHugePagesPrefix) || strings.HasPrefix(name, corev1.ResourceRequestsHugePagesPrefix)
}

// validateResourceNames checks the keys of r: a qualified name, and without a domain
// ("example.com/gpu" has one) one of standard, as the apiserver requires. quota picks
// the ResourceQuota set, else the LimitRange one.
func validateResourceNames(p field.Path, r Resources, quota bool) field.List {
	var errs field.List
	standard, what := standardResources, "a standard resource name"
	if quota {
		standard, what = standardQuotaResources, "a standard quota resource name"
	}
	for _, name := range sortedKeys(r) {
		if msgs := validation.IsQualifiedName(name); len(msgs) > 0 {
			errs = append(errs, field.Errorf(p.Key(name).String(), "not a resource name: %s", strings.Join(msgs, "; ")))
			continue
		}
		if strings.Contains(name, "/") || standard[name] || isHugePages(name) {
			continue
		}
		errs = append(errs, field.Errorf(p.Key(name).String(), "%q is not %s (such as %s) nor a qualified extended resource (example.com/gpu, count/deployments.apps): the apiserver would refuse it",
			name, what, suggestions(quota)))
	}
	return errs
}

func suggestions(quota bool) string {
	if quota {
		return "requests.cpu, limits.memory, requests.storage, pods"
	}
	return "cpu, memory, ephemeral-storage"
}

// validateSiteName checks metadata.name: it is every object's peruser.dev/site label
// value (at most 63 characters, alphanumerics with -, _ or . inside), which is also
// the longest name derived from it.
func validateSiteName(name string) field.List {
	var errs field.List
	for _, msg := range validation.IsValidLabelValue(name) {
		errs = append(errs, field.Errorf("metadata.name", "%q cannot be the peruser.dev/site label value of every object: %s", name, msg))
	}
	return errs
}
