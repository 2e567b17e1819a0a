package harden

import (
	"slices"

	"github.com/peruser-dev/peruser/api/v1alpha1"
)

// Identity is the POSIX identity every hardened pod runs as: resolved by a front-end
// from a Hardening spec's explicit uid and gid (ExplicitIdentity) or from a user of a
// Site.
type Identity struct {
	UID, GID int64
	// SupplementalGroups, when non-nil, becomes every pod's supplementalGroups: the
	// GIDs ≥ v1alpha1.MinSupplementalGID among them (lower ones are system groups a Site
	// may list for a user), sorted, without duplicates. When nil, any
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

// ExplicitIdentity is the identity a spec gives by uid and gid.
func ExplicitIdentity(id v1alpha1.HardeningIdentity) Identity {
	out := Identity{SupplementalGroups: id.SupplementalGroups}
	if id.UID != nil {
		out.UID = *id.UID
	}
	if id.GID != nil {
		out.GID = *id.GID
	}
	return out
}

// normalizedSupplementalGroups returns the groups to set: GIDs ≥ MinSupplementalGID,
// sorted and unique; nil when the identity asks for none. This is the one place system
// groups are dropped.
func (id Identity) normalizedSupplementalGroups() []int64 {
	if id.SupplementalGroups == nil {
		return nil
	}
	out := []int64{}
	for _, g := range id.SupplementalGroups {
		if g >= v1alpha1.MinSupplementalGID {
			out = append(out, g)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// asSpec is the identity as the spec's explicit one, with the groups that are set, so
// that the spec's validation checks the identity pods will run as.
func (id Identity) asSpec() v1alpha1.HardeningIdentity {
	return v1alpha1.HardeningIdentity{UID: &id.UID, GID: &id.GID, SupplementalGroups: id.normalizedSupplementalGroups()}
}
