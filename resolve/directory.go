package resolve

import (
	"fmt"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/identity"
)

// directoryOrigin is where directory users come from, in error messages.
const directoryOrigin = "spec.directory"

// withDirectory adds the directory's users to the inline ones. An inline user wins
// over a directory user of the same name, whole: its uid, gid, groups and profile are
// the inline ones (docs/directory.md), so a site can pin or correct one user without
// touching LDAP.
func withDirectory(site *v1alpha1.Site, directoryUsers []identity.User, users []identity.User, origins []string) ([]identity.User, []string) {
	if site.Spec.Directory == nil {
		return users, origins
	}
	inline := make(map[string]bool, len(users))
	for _, u := range users {
		inline[u.Name] = true
	}
	for _, u := range directoryUsers {
		if inline[u.Name] {
			continue
		}
		users = append(users, u)
		origins = append(origins, directoryOrigin)
	}
	return users, origins
}

// checkMerged applies the rules that only the merged list can: no two users share a
// uid, whichever source they came from, and there are at least minUsers users.
func checkMerged(site *v1alpha1.Site, users []identity.User, origins []string) error {
	var errs field.List
	fromDirectory := 0
	for _, o := range origins {
		if o == directoryOrigin {
			fromDirectory++
		}
	}
	// Inline users are checked among themselves by validation, directory users by
	// package directory, and an inline user replaces a directory user of its name: what
	// the rule finds here is a uid shared between the two sources.
	for _, p := range identity.Check(users, func(j int) string { return describeOrigin(origins[j]) }) {
		errs = append(errs, field.Errorf(fieldPath(origins[p.Index], p.Field), "%s", p.Message))
	}
	if min, path := site.MinimumUsers(); len(users) < min {
		from := fmt.Sprintf("%d inline", len(users))
		if site.Spec.Directory != nil {
			from = fmt.Sprintf("%d from the directory, %d inline", fromDirectory, len(users)-fromDirectory)
		}
		errs = append(errs, field.Errorf(path,
			"only %d users resolved (%s), fewer than minUsers %d: refusing to render a shrunken list, which a GitOps engine would prune (minUsers: 0 renders an empty site on purpose)",
			len(users), from, min))
	}
	return errs.ErrOrNil()
}

// fieldPath is the path of a user's field: the inline user's own, or spec.directory
// for a directory user.
func fieldPath(origin, f string) string {
	if origin == directoryOrigin {
		return origin
	}
	return origin + "." + f
}

func describeOrigin(origin string) string {
	if origin == directoryOrigin {
		return "from the directory"
	}
	return origin
}
