package harden

import "github.com/peruser-dev/peruser/api/v1alpha1"

// FromSpec converts a Hardening spec into Options. The identity is passed separately
// because a spec may name it indirectly (a user of a Site), which only a front-end with
// file access can resolve.
func FromSpec(spec v1alpha1.HardeningSpec, id Identity) Options {
	o := Options{
		Identity:         id,
		Lifetime:         spec.Lifetime,
		Labels:           spec.Labels,
		ImagePullSecrets: spec.ImagePullSecrets,
		Exceptions: Exceptions{
			HostPathPrefixes: spec.Exceptions.HostPathPrefixes,
			VolumeTypes:      spec.Exceptions.VolumeTypes,
		},
		AllowDowngrade:     spec.AllowDowngrade,
		DropInitContainers: spec.DropInitContainers,
		NoVerify:           !spec.VerifyEnabled(),
	}
	for _, r := range spec.RegistryRewrites {
		o.RegistryRewrites = append(o.RegistryRewrites, RegistryRewrite{From: r.From, To: r.To})
	}
	for _, t := range spec.PodTemplatePaths {
		o.PodTemplatePaths = append(o.PodTemplatePaths, PodTemplatePath{Group: t.Group, Kind: t.Kind, Path: t.Path})
	}
	return o
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
