package shard_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peruser-dev/peruser/shard"

	// Defines -update, so that `go test ./... -update` runs in every package.
	_ "github.com/peruser-dev/peruser/internal/golden"
)

// names are 10,000 usernames of the shapes sites have: plain, dotted, email-like,
// uppercase.
func names() []string {
	out := make([]string, 10000)
	for i := range out {
		switch i % 4 {
		case 0:
			out[i] = fmt.Sprintf("user%05d", i)
		case 1:
			out[i] = fmt.Sprintf("first.last%d", i)
		case 2:
			out[i] = fmt.Sprintf("u%d@example.edu", i)
		default:
			out[i] = fmt.Sprintf("Mixed%dCase", i)
		}
	}
	return out
}

// TestGrowingMovesFewUsers: going from N to N+1 shards moves at most 1.5/(N+1) of the
// users, and every user that moves goes to the new shard (rendezvous hashing).
func TestGrowingMovesFewUsers(t *testing.T) {
	users := names()
	for _, n := range []int{1, 2, 3, 5, 8, 16, 50, 100} {
		moved := 0
		for _, u := range users {
			before, after := shard.Of(u, n), shard.Of(u, n+1)
			if before != after {
				moved++
				require.Equal(t, n, after, "%s moved from shard %d to %d, not to the new shard", u, before, after)
			}
		}
		frac := float64(moved) / float64(len(users))
		limit := 1.5 / float64(n+1)
		t.Logf("%d → %d shards: %d of %d users moved (%.4f; limit %.4f)", n, n+1, moved, len(users), frac, limit)
		assert.LessOrEqual(t, frac, limit, "%d → %d shards", n, n+1)
		assert.Greater(t, moved, 0, "%d → %d shards: the new shard got nobody", n, n+1)
	}
}

// TestSpreadIsEven: no shard holds more than 1.5× its fair share of 10,000 users.
func TestSpreadIsEven(t *testing.T) {
	users := names()
	for _, n := range []int{4, 10, 100} {
		counts := make([]int, n)
		for _, u := range users {
			s := shard.Of(u, n)
			require.True(t, s >= 0 && s < n)
			counts[s]++
		}
		fair := float64(len(users)) / float64(n)
		for i, c := range counts {
			assert.LessOrEqual(t, float64(c), 1.5*fair, "shard %d of %d holds %d users", i, n, c)
			assert.GreaterOrEqual(t, float64(c), 0.5*fair, "shard %d of %d holds %d users", i, n, c)
		}
	}
}

// TestStable: the shard of a name is a pure function of the name and the count (the
// layout in git must not change between runs or machines).
func TestStable(t *testing.T) {
	want := map[string]int{"oakley": shard.Of("oakley", 7), "jane.doe": shard.Of("jane.doe", 7)}
	for i := 0; i < 3; i++ {
		for name, s := range want {
			assert.Equal(t, s, shard.Of(name, 7))
		}
	}
	assert.Equal(t, 0, shard.Of("anyone", 1))
}

func TestParseAndCheck(t *testing.T) {
	for _, tc := range []struct {
		in     string
		want   shard.Part
		folder string
		errs   bool
	}{
		{"site", shard.SitePart, "site", false},
		{"all", shard.Whole, "all", false},
		{"0", shard.User(0), "shard-000", false},
		{"12", shard.User(12), "shard-012", false},
		{"shard-007", shard.User(7), "shard-007", false},
		{"-1", shard.Part{}, "", true},
		{"+1", shard.Part{}, "", true},
		{"x", shard.Part{}, "", true},
	} {
		p, err := shard.Parse(tc.in)
		if tc.errs {
			assert.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, p, tc.in)
		assert.Equal(t, tc.folder, p.Folder(), tc.in)
	}
	assert.NoError(t, shard.User(3).Check(4))
	assert.ErrorContains(t, shard.User(4).Check(4), "outside 0…3")
	assert.ErrorContains(t, shard.SitePart.Check(0), "not sharded")
	assert.NoError(t, shard.Whole.Check(0))
	assert.Len(t, shard.All(3), 4)
	assert.Equal(t, shard.SitePart, shard.All(3)[0])
}

func BenchmarkOf100Shards(b *testing.B) {
	for i := 0; i < b.N; i++ {
		shard.Of("first.last12345", 100)
	}
}
