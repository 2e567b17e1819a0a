package v1alpha1

import (
	"slices"
	"strings"

	"github.com/peruser-dev/peruser/field"
)

// Service types of spec.admission.serviceTypes.
const (
	ServiceTypeClusterIP = "ClusterIP"
	ServiceTypeNodePort  = "NodePort"
)

// DefaultServiceTypes are the Service types users may create when the site does not
// say: ClusterIP, and NodePort because Open OnDemand's pod template makes one.
var DefaultServiceTypes = []string{ServiceTypeClusterIP, ServiceTypeNodePort}

// forbiddenServiceTypes are the types a user namespace never gets, and why.
var forbiddenServiceTypes = map[string]string{
	"ExternalName": "an ExternalName Service is a DNS alias the ingress controller follows into any namespace, so a user could route their host to another user's Service",
	"LoadBalancer": "a LoadBalancer Service exposes the user's pods outside the cluster, past the site's ingress, source ranges and NetworkPolicy",
}

// StrictSupplementalGroupsOn reports whether pods in user namespaces get and must keep
// supplementalGroupsPolicy: Strict (the default whenever the admission policy is on).
func (a Admission) StrictSupplementalGroupsOn() bool {
	return a.ValidatingAdmissionPolicy && (a.StrictSupplementalGroups == nil || *a.StrictSupplementalGroups)
}

// AllowedServiceTypes are the Service types users may create, sorted.
func (a Admission) AllowedServiceTypes() []string {
	if len(a.ServiceTypes) == 0 {
		return DefaultServiceTypes
	}
	out := slices.Clone(a.ServiceTypes)
	slices.Sort(out)
	return slices.Compact(out)
}

// validateAdmission refuses options that only mean something with the admission
// policy, when the policy is off: the site would believe it is protected.
func (s *Site) validateAdmission(p field.Path) field.List {
	var errs field.List
	a := s.Spec.Admission
	if !a.ValidatingAdmissionPolicy {
		if a.StrictSupplementalGroups != nil && *a.StrictSupplementalGroups {
			errs = append(errs, field.Errorf(p.Child("strictSupplementalGroups").String(),
				"requires spec.admission.validatingAdmissionPolicy: true (the admission policies are what default and require Strict); turn the policy on or remove this field"))
		}
		if len(a.ServiceTypes) > 0 {
			errs = append(errs, field.Errorf(p.Child("serviceTypes").String(),
				"requires spec.admission.validatingAdmissionPolicy: true (the admission policy is what enforces the Service types); turn the policy on or remove this field"))
		}
	}
	for i, t := range a.ServiceTypes {
		tp := p.Child("serviceTypes").Index(i).String()
		switch why, forbidden := forbiddenServiceTypes[t]; {
		case forbidden:
			errs = append(errs, field.Errorf(tp, "%s is never allowed in user namespaces: %s", t, why))
		case !slices.Contains(DefaultServiceTypes, t):
			errs = append(errs, field.Errorf(tp, "unknown Service type %q; one of %s", t, strings.Join(DefaultServiceTypes, ", ")))
		}
	}
	return errs
}
