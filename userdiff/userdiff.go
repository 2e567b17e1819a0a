// Package userdiff compares two lists of users — two renders of a site, or two
// directory snapshots — and says what the change means for access: who is added, who
// is removed (the next sync revokes their access; their namespace and volumes are
// kept), and whose uid, gid, groups, profile or namespace changed. It is pure: the
// same two lists give the same summary, byte for byte.
package userdiff

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/peruser-dev/peruser/identity"
)

// Change is one user present on both sides whose identity differs.
type Change struct {
	Name string
	// What lists the differences in a fixed order: uid, gid, groups, profile, namespace.
	What []string
}

// Summary is the difference between an old and a new list of users.
type Summary struct {
	Before, After int
	Added         []identity.User
	Removed       []identity.User
	Changed       []Change
}

// Empty reports whether nothing changed.
func (s Summary) Empty() bool { return len(s.Added) == 0 && len(s.Removed) == 0 && len(s.Changed) == 0 }

// Compare returns what changed from old to new. Users are matched by name.
func Compare(old, new []identity.User) Summary {
	s := Summary{Before: len(old), After: len(new)}
	was := make(map[string]identity.User, len(old))
	for _, u := range old {
		was[u.Name] = u
	}
	is := make(map[string]bool, len(new))
	for _, u := range new {
		is[u.Name] = true
		o, ok := was[u.Name]
		if !ok {
			s.Added = append(s.Added, u)
			continue
		}
		if what := differences(o, u); len(what) > 0 {
			s.Changed = append(s.Changed, Change{Name: u.Name, What: what})
		}
	}
	for _, u := range old {
		if !is[u.Name] {
			s.Removed = append(s.Removed, u)
		}
	}
	sort.Slice(s.Added, func(i, j int) bool { return s.Added[i].Name < s.Added[j].Name })
	sort.Slice(s.Removed, func(i, j int) bool { return s.Removed[i].Name < s.Removed[j].Name })
	sort.Slice(s.Changed, func(i, j int) bool { return s.Changed[i].Name < s.Changed[j].Name })
	return s
}

func differences(o, n identity.User) []string {
	var what []string
	if o.UID != n.UID {
		what = append(what, fmt.Sprintf("uid %d → %d", o.UID, n.UID))
	}
	if o.GID != n.GID {
		what = append(what, fmt.Sprintf("gid %d → %d", o.GID, n.GID))
	}
	if g := groupChanges(o.Groups, n.Groups); g != "" {
		what = append(what, "groups "+g)
	}
	if o.Profile != n.Profile {
		what = append(what, fmt.Sprintf("profile %s → %s", orNone(o.Profile), orNone(n.Profile)))
	}
	if o.Namespace != n.Namespace && o.Namespace != "" && n.Namespace != "" {
		what = append(what, fmt.Sprintf("namespace %s → %s", o.Namespace, n.Namespace))
	}
	return what
}

// groupChanges lists groups gained (+name) and lost (-name), and gid changes.
func groupChanges(o, n []identity.Group) string {
	was, is, names := map[string]int64{}, map[string]int64{}, map[string]bool{}
	for _, g := range o {
		was[g.Name], names[g.Name] = g.GID, true
	}
	for _, g := range n {
		is[g.Name], names[g.Name] = g.GID, true
	}
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(names)) {
		og, inOld := was[name]
		ng, inNew := is[name]
		switch {
		case inNew && !inOld:
			parts = append(parts, "+"+name)
		case inOld && !inNew:
			parts = append(parts, "-"+name)
		case og != ng:
			parts = append(parts, fmt.Sprintf("%s gid %d → %d", name, og, ng))
		}
	}
	return strings.Join(parts, ", ")
}

func orNone(p string) string {
	if p == "" {
		return "(none)"
	}
	return p
}

// Write prints the summary for a person (a pull-request comment, a CI log): one
// heading line, then one line per user, prefixed with prefix.
func (s Summary) Write(w io.Writer, prefix string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s%d users before, %d after: %d added, %d removed, %d changed\n",
		prefix, s.Before, s.After, len(s.Added), len(s.Removed), len(s.Changed))
	for _, u := range s.Added {
		fmt.Fprintf(&b, "%s+ %s (uid %d, gid %d): gets a namespace and access\n", prefix, u.Name, u.UID, u.GID)
	}
	for _, u := range s.Removed {
		fmt.Fprintf(&b, "%s- %s (uid %d, gid %d): the next sync revokes their access; their namespace and data stay\n", prefix, u.Name, u.UID, u.GID)
	}
	for _, c := range s.Changed {
		fmt.Fprintf(&b, "%s~ %s: %s\n", prefix, c.Name, strings.Join(c.What, "; "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
