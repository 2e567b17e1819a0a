package v1alpha1

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/shard"
)

// SiteShardKind is the kind of the small function config that renders one part of a
// sharded site: `krm-fn shards` writes one per shard folder.
const SiteShardKind = "SiteShard"

// Sharding splits a site's users into shards that render, and sync, independently
// (one Argo CD Application or Flux Kustomization each), because kustomize and Argo CD
// slow down faster than linearly with the number of objects. Every shard still loads
// and checks the whole site.
type Sharding struct {
	// Shards is the number of user shards, 1…1000. Each user belongs to exactly one,
	// chosen by rendezvous hashing of the username; the site-wide objects are a part of
	// their own.
	Shards int `json:"shards"`
}

// ShardCount is the site's shard count, 0 when the site is not sharded.
func (s *Site) ShardCount() int {
	if s.Spec.Sharding == nil {
		return 0
	}
	return s.Spec.Sharding.Shards
}

// SiteShard names one part of a sharded Site: the site-wide objects or one shard's
// users. It is a functionConfig (kustomize, kpt) and a file `krm-fn render` and the
// Argo CD plugin read.
type SiteShard struct {
	APIVersion string        `json:"apiVersion"`
	Kind       string        `json:"kind"`
	Metadata   ObjectMeta    `json:"metadata"`
	Spec       SiteShardSpec `json:"spec"`
}

// SiteShardSpec says which site and which part of it.
type SiteShardSpec struct {
	// SiteFile is the Site's file, relative to this file's folder.
	SiteFile string `json:"siteFile"`
	// SiteName must equal the Site's metadata.name, so that a moved or swapped file
	// is refused instead of rendering another site into this folder.
	SiteName string `json:"siteName"`
	// Part is "site" (the site-wide objects) or a shard index, 0…shards-1.
	Part string `json:"part"`
	// Shards is the shard count the layout was written for; it must equal the Site's
	// spec.sharding.shards, so that a stale layout fails instead of losing users.
	Shards int `json:"shards"`
}

// Part is the parsed spec.part.
func (s *SiteShard) Part() (shard.Part, error) {
	if s.Spec.Part == "all" {
		return shard.Part{}, fmt.Errorf("a SiteShard names one part, not all")
	}
	return shard.Parse(s.Spec.Part)
}

// Validate checks the SiteShard on its own; CheckAgainst checks it against its Site.
func (s *SiteShard) Validate() field.List {
	var errs field.List
	spec := field.Path("spec")
	if strings.TrimSpace(s.Spec.SiteFile) == "" {
		errs = append(errs, field.Errorf(spec.Child("siteFile").String(), "must name the Site's file"))
	}
	p, err := s.Part()
	if err != nil {
		errs = append(errs, field.Errorf(spec.Child("part").String(), "%v", err))
	} else if err := p.Check(s.Spec.Shards); err != nil {
		errs = append(errs, field.Errorf(spec.Child("part").String(), "%v", err))
	}
	return errs
}

// CheckAgainst checks that the SiteShard belongs to site and to the layout folder it
// was found in (folder "" skips that check): a shard config must name its site, agree
// on the shard count, and live in the folder of its part, so that two folders can never
// claim one shard.
func (s *SiteShard) CheckAgainst(site *Site, folder string) field.List {
	var errs field.List
	spec := field.Path("spec")
	if s.Spec.SiteName != site.Metadata.Name {
		errs = append(errs, field.Errorf(spec.Child("siteName").String(),
			"is %q, but %s holds Site %q: this shard config belongs to another site", s.Spec.SiteName, s.Spec.SiteFile, site.Metadata.Name))
	}
	if n := site.ShardCount(); n != s.Spec.Shards {
		what := "is not sharded (spec.sharding is not set)"
		if n > 0 {
			what = "has spec.sharding.shards: " + strconv.Itoa(n)
		}
		errs = append(errs, field.Errorf(spec.Child("shards").String(),
			"the layout was written for %d shards, but the Site %s: the layout is stale; write it again with `krm-fn shards`", s.Spec.Shards, what))
	}
	if p, err := s.Part(); err == nil && folder != "" && folder != p.Folder() {
		errs = append(errs, field.Errorf(spec.Child("part").String(),
			"folder %q holds part %s, whose folder is %q: each part has exactly one folder, named after it; write the layout again with `krm-fn shards`", folder, s.Spec.Part, p.Folder()))
	}
	return errs
}
