package identity_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/peruser-dev/peruser/identity"
)

func TestIDRule(t *testing.T) {
	for _, tc := range []struct {
		id   int64
		want string // "" valid; else a substring of both messages
	}{
		{1, ""},
		{20001, ""},
		{2147483647, ""},
		{0, "got 0 ("},
		{-1, "between 1 and 2147483647, got -1"},
		{2147483648, "between 1 and 2147483647, got 2147483648"},
		{3000000000, "got 3000000000"},
	} {
		for name, check := range map[string]func(int64) string{"uid": identity.CheckUID, "gid": identity.CheckGID} {
			got := check(tc.id)
			if tc.want == "" {
				assert.Empty(t, got, "%s %d", name, tc.id)
				assert.True(t, identity.ValidID(tc.id))
				continue
			}
			assert.Contains(t, got, tc.want, "%s %d", name, tc.id)
			assert.False(t, identity.ValidID(tc.id))
		}
	}
}
