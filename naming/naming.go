// Package naming is the one place where a username becomes a Kubernetes name. Every
// generator, the post-renderer and the OOD cluster config use it, so that a user's
// namespace is the same wherever it is computed.
package naming

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// MaxLabel is the longest DNS-1123 label, and so the longest namespace name.
const MaxLabel = 63

// hashLen is the number of hex digits of the suffix added when a name was changed.
const hashLen = 8

// Slug maps username to the part of its namespace name that follows prefix, such that
// len(prefix+slug) ≤ 63 and prefix+slug is a DNS-1123 label. Lowercase ASCII letters,
// digits and inner hyphens are kept; every other character becomes '-'; leading and
// trailing hyphens are trimmed. When that changed anything (case included) or the result
// had to be truncated, "-" and a stable hash of the raw username are appended, so that
// "a.b" and "a_b" never share a namespace. lossy reports whether that happened.
func Slug(prefix, username string) (slug string, lossy bool) {
	var b strings.Builder
	b.Grow(len(username))
	for _, r := range username {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + ('a' - 'A'))
		default:
			b.WriteByte('-')
		}
	}
	base := strings.Trim(b.String(), "-")
	budget := MaxLabel - len(prefix)
	if base == username && len(base) <= budget && base != "" {
		return base, false
	}
	suffix := hashHex(username)
	keep := budget - hashLen - 1
	if keep < 0 {
		keep = 0
	}
	if len(base) > keep {
		base = strings.TrimRight(base[:keep], "-")
	}
	if base == "" {
		return suffix, true
	}
	return base + "-" + suffix, true
}

// hashHex is the stable suffix of a changed name: the first hex digits of its SHA-256.
func hashHex(username string) string {
	sum := sha256.Sum256([]byte(username))
	return hex.EncodeToString(sum[:])[:hashLen]
}

// Namespace is prefix + Slug(prefix, username).
func Namespace(prefix, username string) string {
	s, _ := Slug(prefix, username)
	return prefix + s
}

// IsReserved reports whether ns is a namespace peruser must never produce: default,
// any kube-* namespace, or one of the site's own (extra).
func IsReserved(ns string, extra []string) bool {
	if ns == "default" || strings.HasPrefix(ns, "kube-") {
		return true
	}
	for _, e := range extra {
		if ns == e {
			return true
		}
	}
	return false
}

// Assignment is the name of one user.
type Assignment struct {
	Username  string
	Slug      string
	Namespace string
}

// Conflict says why a set of usernames cannot be named.
type Conflict struct {
	// Users are the usernames involved: two for a collision, one for a reserved or
	// invalid name.
	Users     []string
	Namespace string
	Reserved  bool
	// Invalid is set when the scheme gives the user no valid namespace name.
	Invalid *InvalidName
	// Scheme is the naming scheme in force, named in collision messages.
	Scheme Scheme
}

func (c Conflict) Error() string {
	if c.Invalid != nil {
		return c.Invalid.Error()
	}
	if c.Reserved {
		return fmt.Sprintf("user %q maps to namespace %q, which is reserved (default, kube-* and the site's own namespaces)", c.Users[0], c.Namespace)
	}
	return fmt.Sprintf("users %q and %q both map to namespace %q under naming %q; rename one or change spec.namespace.prefix or spec.namespace.naming", c.Users[0], c.Users[1], c.Namespace, c.Scheme)
}

// Assign names every user under scheme. It returns one Assignment per username, in
// input order, and every conflict found (sorted by namespace), so that all of them are
// reported at once. An invalid name's Assignment has an empty Namespace.
func Assign(scheme Scheme, prefix string, usernames []string, extraReserved []string) ([]Assignment, []Conflict) {
	out := make([]Assignment, len(usernames))
	owner := make(map[string]int, len(usernames))
	var conflicts []Conflict
	for i, u := range usernames {
		slug, err := scheme.Slug(prefix, u)
		if err != nil {
			inv, ok := err.(*InvalidName)
			if !ok { // an unknown scheme: validation refuses it before this
				inv = &InvalidName{Scheme: scheme, Username: u}
			}
			out[i] = Assignment{Username: u}
			conflicts = append(conflicts, Conflict{Users: []string{u}, Namespace: inv.Namespace, Invalid: inv, Scheme: scheme})
			continue
		}
		ns := prefix + slug
		out[i] = Assignment{Username: u, Slug: slug, Namespace: ns}
		if IsReserved(ns, extraReserved) {
			conflicts = append(conflicts, Conflict{Users: []string{u}, Namespace: ns, Reserved: true, Scheme: scheme})
			continue
		}
		if j, taken := owner[ns]; taken {
			conflicts = append(conflicts, Conflict{Users: []string{usernames[j], u}, Namespace: ns, Scheme: scheme})
			continue
		}
		owner[ns] = i
	}
	sort.SliceStable(conflicts, func(i, j int) bool { return conflicts[i].Namespace < conflicts[j].Namespace })
	return out, conflicts
}
