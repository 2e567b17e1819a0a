package userdiff

import (
	"strings"
	"testing"

	"github.com/peruser-dev/peruser/identity"

	// Defines -update, so that `go test ./... -update` runs in every package.
	_ "github.com/peruser-dev/peruser/internal/golden"
)

func TestCompare(t *testing.T) {
	old := []identity.User{
		{Name: "oakley", UID: 20001, GID: 20001, Groups: []identity.Group{{Name: "pzs0001", GID: 30001}}, Profile: "default"},
		{Name: "annie", UID: 20002, GID: 20002},
		{Name: "bob", UID: 20003, GID: 20003},
	}
	new := []identity.User{
		{Name: "oakley", UID: 20005, GID: 20001, Groups: []identity.Group{{Name: "pzs0002", GID: 30002}}, Profile: "staff"},
		{Name: "annie", UID: 20002, GID: 20002},
		{Name: "zed", UID: 20009, GID: 20009},
	}
	s := Compare(old, new)
	var b strings.Builder
	if err := s.Write(&b, "> "); err != nil {
		t.Fatal(err)
	}
	want := `> 3 users before, 3 after: 1 added, 1 removed, 1 changed
> + zed (uid 20009, gid 20009): gets a namespace and access
> - bob (uid 20003, gid 20003): the next sync revokes their access; their namespace and data stay
> ~ oakley: uid 20001 → 20005; groups -pzs0001, +pzs0002; profile default → staff
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	if s.Empty() || !Compare(old, old).Empty() {
		t.Error("Empty is wrong")
	}
}
