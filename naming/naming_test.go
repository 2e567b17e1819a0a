package naming

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	// Defines -update, so that `go test ./... -update` runs in every package.
	_ "github.com/peruser-dev/peruser/internal/golden"
)

var dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func TestSlug(t *testing.T) {
	long := strings.Repeat("abcdefghij", 8) // 80 characters
	tests := []struct {
		name, prefix, user string
		want               string
		lossy              bool
	}{
		{"plain", "user-", "oakley", "oakley", false},
		{"digits and hyphen kept", "user-", "jd-42", "jd-42", false},
		{"digits first", "user-", "1alice", "1alice", false},
		{"dot", "user-", "john.doe", "john-doe-" + hashOf("john.doe"), true},
		{"at sign", "user-", "jane@example.edu", "jane-example-edu-" + hashOf("jane@example.edu"), true},
		{"underscore", "user-", "a_b", "a-b-" + hashOf("a_b"), true},
		{"uppercase", "user-", "Oakley", "oakley-" + hashOf("Oakley"), true},
		{"leading and trailing junk trimmed", "user-", "_bob_", "bob-" + hashOf("_bob_"), true},
		{"non-ASCII only", "user-", "日本", hashOf("日本"), true},
		{"non-ASCII mixed", "user-", "józef", "j-zef-" + hashOf("józef"), true},
		{"80 characters truncated", "user-", long, long[:63-5-9] + "-" + hashOf(long), true},
		{"exactly fits", "user-", long[:58], long[:58], false},
		{"one over", "user-", long[:59], long[:49] + "-" + hashOf(long[:59]), true},
		{"empty prefix", "", "oakley", "oakley", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, lossy := Slug(tt.prefix, tt.user)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.lossy, lossy)
			ns := tt.prefix + got
			assert.LessOrEqual(t, len(ns), MaxLabel)
			assert.Regexp(t, dns1123Label, ns)
			again, _ := Slug(tt.prefix, tt.user)
			assert.Equal(t, got, again, "stable")
		})
	}
}

// hashOf pins the hash to its definition (first 8 hex digits of SHA-256), so a change
// of the hash — which would rename every lossy user's namespace — fails this test.
func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:8]
}

func TestLossyNamesNeverMeet(t *testing.T) {
	names := []string{"a.b", "a_b", "a@b", "A.b", "a-b", "a--b", "a..b"}
	seen := map[string]string{}
	for _, n := range names {
		ns := Namespace("user-", n)
		if prev, ok := seen[ns]; ok {
			t.Fatalf("%q and %q both map to %q", prev, n, ns)
		}
		seen[ns] = n
	}
}

func TestAssign(t *testing.T) {
	tests := []struct {
		name     string
		prefix   string
		users    []string
		reserved []string
		wantErrs []string
	}{
		{name: "distinct", prefix: "user-", users: []string{"oakley", "a.b", "a_b"}},
		{name: "duplicate", prefix: "user-", users: []string{"oakley", "oakley"},
			wantErrs: []string{`users "oakley" and "oakley" both map to namespace "user-oakley" under naming "hashed"`}},
		{name: "default with empty prefix", prefix: "", users: []string{"default"},
			wantErrs: []string{`user "default" maps to namespace "default", which is reserved`}},
		{name: "kube-system", prefix: "", users: []string{"kube-system"},
			wantErrs: []string{`user "kube-system" maps to namespace "kube-system", which is reserved`}},
		{name: "any kube- prefix", prefix: "kube-", users: []string{"alice"},
			wantErrs: []string{`user "alice" maps to namespace "kube-alice", which is reserved`}},
		{name: "site namespace", prefix: "", users: []string{"job-pod-reaper"}, reserved: []string{"job-pod-reaper"},
			wantErrs: []string{`user "job-pod-reaper" maps to namespace "job-pod-reaper", which is reserved`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as, conflicts := Assign(Hashed, tt.prefix, tt.users, tt.reserved)
			require.Len(t, as, len(tt.users))
			var msgs []string
			for _, c := range conflicts {
				msgs = append(msgs, c.Error())
			}
			require.Len(t, msgs, len(tt.wantErrs), "%v", msgs)
			for i, w := range tt.wantErrs {
				assert.Contains(t, msgs[i], w)
			}
		})
	}
}
