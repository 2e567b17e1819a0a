package identity_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/peruser-dev/peruser/identity"

	// Defines -update, so that `go test ./... -update` runs in every package.
	_ "github.com/peruser-dev/peruser/internal/golden"
)

func TestCheck(t *testing.T) {
	describe := func(j int) string { return fmt.Sprintf("users[%d]", j) }
	for _, tc := range []struct {
		name  string
		users []identity.User
		want  []identity.Problem
	}{
		{"valid", []identity.User{{Name: "a", UID: 1, GID: 1}, {Name: "b", UID: 2, GID: 1, Groups: []identity.Group{{Name: "g", GID: 5}}}}, nil},
		{"empty name", []identity.User{{Name: " ", UID: 1, GID: 1}},
			[]identity.Problem{{0, "name", "must not be empty"}}},
		{"duplicate name", []identity.User{{Name: "a", UID: 1, GID: 1}, {Name: "a", UID: 2, GID: 1}},
			[]identity.Problem{{1, "name", `duplicate user "a" (also users[0])`}}},
		{"shared uid", []identity.User{{Name: "a", UID: 7, GID: 1}, {Name: "b", UID: 7, GID: 1}},
			[]identity.Problem{{1, "uid", `uid 7 of "b" is also the uid of "a" (users[0]): two users must never share a uid`}}},
		{"root and out of range", []identity.User{{Name: "r", UID: 0, GID: 3000000000}},
			[]identity.Problem{{0, "uid", "must be between 1 and 2147483647, got 0 (uid 0 is root)"},
				{0, "gid", "must be between 1 and 2147483647, got 3000000000"}}},
		{"groups", []identity.User{{Name: "a", UID: 1, GID: 1, Groups: []identity.Group{{Name: "ok", GID: 2}, {Name: "", GID: 0}}}},
			[]identity.Problem{{0, "groups[1].name", "must not be empty"},
				{0, "groups[1].gid", "must be between 1 and 2147483647, got 0 (gid 0 is root's group)"}}},
		// A uid out of range is reported once, not also as shared.
		{"invalid uid not shared", []identity.User{{Name: "a", UID: -1, GID: 1}, {Name: "b", UID: -1, GID: 1}},
			[]identity.Problem{{0, "uid", "must be between 1 and 2147483647, got -1"}, {1, "uid", "must be between 1 and 2147483647, got -1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, identity.Check(tc.users, describe))
		})
	}
}
