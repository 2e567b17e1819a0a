package identity

import (
	"fmt"
	"strings"
)

// Problem is one broken identity rule: which user (an index into the checked list),
// the field relative to that user ("name", "uid", "gid", "groups[2].gid") and the
// message. Callers turn it into their own error shape with the user's origin (a Site
// line, a snapshot index, an LDAP DN).
type Problem struct {
	Index   int
	Field   string
	Message string
}

// Check is the identity rule, the one every source of users and the post-renderer
// obey: names non-empty and unique, uids and gids between 1 and MaxID (CheckUID,
// CheckGID), no two users sharing a uid, every group named. describe(j) says where
// user j came from ("spec.users[3]", "users[3]", an LDAP DN), for the messages that
// name a second user. Problems come in user order, then field order.
func Check(users []User, describe func(j int) string) []Problem {
	var out []Problem
	add := func(i int, f, format string, args ...any) {
		out = append(out, Problem{Index: i, Field: f, Message: fmt.Sprintf(format, args...)})
	}
	byName := make(map[string]int, len(users))
	byUID := make(map[int64]int, len(users))
	for i, u := range users {
		if strings.TrimSpace(u.Name) == "" {
			add(i, "name", "must not be empty")
		} else if j, dup := byName[u.Name]; dup {
			add(i, "name", "duplicate user %q (also %s)", u.Name, describe(j))
		} else {
			byName[u.Name] = i
		}
		if msg := CheckUID(u.UID); msg != "" {
			add(i, "uid", "%s", msg)
		} else if j, dup := byUID[u.UID]; dup {
			add(i, "uid", "uid %d of %q is also the uid of %q (%s): two users must never share a uid", u.UID, u.Name, users[j].Name, describe(j))
		} else {
			byUID[u.UID] = i
		}
		if msg := CheckGID(u.GID); msg != "" {
			add(i, "gid", "%s", msg)
		}
		for k, g := range u.Groups {
			if strings.TrimSpace(g.Name) == "" {
				add(i, fmt.Sprintf("groups[%d].name", k), "must not be empty")
			}
			if msg := CheckGID(g.GID); msg != "" {
				add(i, fmt.Sprintf("groups[%d].gid", k), "%s", msg)
			}
		}
	}
	return out
}
