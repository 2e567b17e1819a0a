// Package identity is the resolved form of a user: who they are in POSIX terms (uid,
// gid, groups), which profile applies and which namespace is theirs. Every source of
// users (inline spec, directory snapshot, live LDAP) resolves to this one type.
package identity

import "sort"

// User is one resolved user.
type User struct {
	// Name is the raw username, as the apiserver and OOD see it.
	Name string `json:"name"`
	UID  int64  `json:"uid"`
	GID  int64  `json:"gid"`
	// Groups are the user's supplementary POSIX groups, sorted by name.
	Groups []Group `json:"groups,omitempty"`
	// Profile is the resolved profile name; empty when no profile applies.
	Profile string `json:"profile,omitempty"`
	// Slug and Namespace come from package naming.
	Slug      string `json:"-"`
	Namespace string `json:"-"`
}

// Group is a POSIX group.
type Group struct {
	Name string `json:"name"`
	GID  int64  `json:"gid"`
}

// SupplementalGIDs are the GIDs the user's pods may carry: the primary GID and every
// group's GID, sorted and unique.
func (u User) SupplementalGIDs() []int64 {
	gids := make([]int64, 0, len(u.Groups)+1)
	gids = append(gids, u.GID)
	for _, g := range u.Groups {
		gids = append(gids, g.GID)
	}
	sort.Slice(gids, func(i, j int) bool { return gids[i] < gids[j] })
	out := gids[:0]
	for i, g := range gids {
		if i == 0 || g != gids[i-1] {
			out = append(out, g)
		}
	}
	return out
}

// GroupNames are the names of the user's groups, sorted.
func (u User) GroupNames() []string {
	names := make([]string, len(u.Groups))
	for i, g := range u.Groups {
		names[i] = g.Name
	}
	sort.Strings(names)
	return names
}
