// Package shard splits a site's users into a fixed number of shards, so that each
// shard renders (and syncs) on its own while the whole site is still checked as one.
// A user's shard is chosen by rendezvous (highest-random-weight) hashing of the raw
// username: it depends only on the name and the shard count, and going from N to N+1
// shards moves only the users that the new shard wins, about 1/(N+1) of them. The
// site-wide objects (ClusterRoles, admission policies, LDAP ConfigMaps) belong to a
// separate part, Site, never to a user shard.
package shard

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxShards is the largest shard count a site may ask for.
const MaxShards = 1000

// Of is the shard, 0…n-1, of the user named name among n shards (n ≥ 1): the shard
// with the highest weight for that name.
func Of(name string, n int) int {
	h := fnv64a(name)
	best, bestWeight := 0, uint64(0)
	for i := 0; i < n; i++ {
		if w := weight(h, i); i == 0 || w > bestWeight {
			best, bestWeight = i, w
		}
	}
	return best
}

// weight is the pseudo-random weight of shard i for a name hashing to h: the i-th
// output of a SplitMix64 generator seeded with h. Its finalizer spreads every input
// bit over the whole word, so the weights of one name are independent enough for
// rendezvous hashing, and a shard costs a few nanoseconds: a shard render checks every
// user of the site against every shard.
func weight(h uint64, i int) uint64 {
	z := h + uint64(i+1)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// fnv64a is the 64-bit FNV-1a hash of s.
func fnv64a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// Part is one independently rendered part of a sharded site: the site-wide objects,
// or the objects of the users of one shard. The zero Part is the whole site.
type Part struct {
	// Site selects the site-wide objects only.
	Site bool
	// Shard selects one shard's users when Sharded is true.
	Shard   int
	Sharded bool
}

// Whole is the unsharded render: every object.
var Whole = Part{}

// SitePart is the part holding the site-wide objects.
var SitePart = Part{Site: true}

// User is the part holding the users of shard i.
func User(i int) Part { return Part{Shard: i, Sharded: true} }

// IsWhole reports whether p is the whole site.
func (p Part) IsWhole() bool { return !p.Site && !p.Sharded }

// SiteWide reports whether the part holds the site-wide objects.
func (p Part) SiteWide() bool { return !p.Sharded }

// Holds reports whether the part holds the user named name when the site has n shards.
func (p Part) Holds(name string, n int) bool {
	switch {
	case p.Site:
		return false
	case !p.Sharded:
		return true
	}
	return Of(name, n) == p.Shard
}

// Folder is the folder name of the part in a shard layout: "site" or "shard-007".
func (p Part) Folder() string {
	switch {
	case p.Site:
		return "site"
	case p.Sharded:
		return fmt.Sprintf("shard-%03d", p.Shard)
	}
	return "all"
}

// String is the part as a command-line value: "site", the shard index, or "all".
func (p Part) String() string {
	switch {
	case p.Site:
		return "site"
	case p.Sharded:
		return strconv.Itoa(p.Shard)
	}
	return "all"
}

// Parse reads a part given on a command line or as a plugin parameter: "site", "all",
// or a shard index (a folder name such as "shard-007" is accepted too).
func Parse(s string) (Part, error) {
	switch s {
	case "site":
		return SitePart, nil
	case "all", "":
		return Whole, nil
	}
	digits := strings.TrimPrefix(s, "shard-")
	i, err := strconv.Atoi(digits)
	if err != nil || i < 0 || strings.HasPrefix(digits, "+") {
		return Part{}, fmt.Errorf("%q is not a part: want site, all or a shard index 0, 1, …", s)
	}
	return User(i), nil
}

// Check reports whether p can exist in a site of n shards (n = 0: not sharded).
func (p Part) Check(n int) error {
	switch {
	case p.IsWhole():
		return nil
	case n == 0:
		return fmt.Errorf("the site is not sharded (spec.sharding.shards is not set), so it has no part %s", p)
	case p.Sharded && (p.Shard < 0 || p.Shard >= n):
		return fmt.Errorf("shard %d is outside 0…%d (spec.sharding.shards is %d)", p.Shard, n-1, n)
	}
	return nil
}

// All are the parts of a site of n shards, in layout order: the site part first.
func All(n int) []Part {
	parts := make([]Part, 0, n+1)
	parts = append(parts, SitePart)
	for i := 0; i < n; i++ {
		parts = append(parts, User(i))
	}
	return parts
}
