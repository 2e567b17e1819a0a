package identity

import (
	"fmt"
	"math"

	"k8s.io/apimachinery/pkg/util/validation"
)

// MaxID is the largest uid or gid a pod may run as: the apiserver's limit
// (validation.IsValidUserID and IsValidGroupID), 2³¹−1.
const MaxID = math.MaxInt32

// CheckUID and CheckGID are the one id rule of peruser, used by the Site, directory
// snapshots, live LDAP data, the Hardening spec and the post-renderer's flags: 1 to
// MaxID. The upper bound is the apiserver's own check; 0 (root, root's group) is refused
// on top of it. They return "" for a valid id, else a message naming the range.
func CheckUID(v int64) string {
	switch {
	case v == 0:
		return "must be between 1 and 2147483647, got 0 (uid 0 is root)"
	case v < 1 || len(validation.IsValidUserID(v)) > 0:
		return fmt.Sprintf("must be between 1 and %d, got %d", MaxID, v)
	}
	return ""
}

// CheckGID is CheckUID for group ids.
func CheckGID(v int64) string {
	switch {
	case v == 0:
		return "must be between 1 and 2147483647, got 0 (gid 0 is root's group)"
	case v < 1 || len(validation.IsValidGroupID(v)) > 0:
		return fmt.Sprintf("must be between 1 and %d, got %d", MaxID, v)
	}
	return ""
}

// ValidID reports an id CheckUID accepts (the uid and gid ranges are the same).
func ValidID(v int64) bool { return CheckUID(v) == "" }
