package naming

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSafeSlugVectors are kubespawner's own test vectors (tests/test_slugs.py,
// test_safe_slug and test_safe_slug_max_length), so that a drift from upstream fails.
func TestSafeSlugVectors(t *testing.T) {
	x := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name      string
		maxLength int
		want      string
	}{
		{"jupyter-alex", 0, "jupyter-alex"},
		{"jupyter-Alex", 0, "jupyter-alex---3a1c285c"},
		{"jupyter-üni", 0, "jupyter-ni---a5aaf5dd"},
		{"endswith-", 0, "endswith---165f1166"},
		{"-start", 0, "start---f587e2dc"},
		{"username--servername", 0, "username-servername---d957f1de"},
		{"start---f587e2dc", 0, "start-f587e2dc---cc5bb9c9"},
		{x(63), 0, x(63)},
		{x(64), 0, "xxxxxxxxxxxxxxxxxxxxx---7ce10097"},
		{x(65), 0, "xxxxxxxxxxxxxxxxxxxxx---9537c5fd"},
		{"", 0, "x---e3b0c442"},
		{x(16), 16, x(16)},
		{x(17), 16, "xxxxx---d04fd59f"},
		{x(16), 12, "x---9c572959"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, SafeSlug(tt.name, tt.maxLength))
		})
	}
}

func TestSchemes(t *testing.T) {
	tests := []struct {
		scheme Scheme
		prefix string
		user   string
		want   string // "" when the scheme gives no valid name
	}{
		// ood_core: username.gsub(/[.@]/, '-'), nothing else.
		{OOD, "user-", "oakley", "oakley"},
		{OOD, "user-", "jane.doe", "jane-doe"},
		{OOD, "user-", "annie.lee@osc.edu", "annie-lee-osc-edu"},
		{OOD, "user-", "a..b", "a--b"},
		{OOD, "user-", "Bob", ""},
		{OOD, "user-", "a_b", ""},
		{OOD, "", "jane.", ""},
		{OOD, "user-", strings.Repeat("a", 59), ""},
		{OOD, "user-", strings.Repeat("a", 58), strings.Repeat("a", 58)},
		// kubespawner: safe_slug(username, max_length=48).
		{KubeSpawner, "jupyter-", "alex", "alex"},
		{KubeSpawner, "jupyter-", "Alex", "alex---" + hashOf("Alex")},
		{KubeSpawner, "jupyter-", "jane.doe", "jane-doe---" + hashOf("jane.doe")},
		{KubeSpawner, "jupyter-", "1alice", "x-1alice---" + hashOf("1alice")},
		{KubeSpawner, "jupyter-", strings.Repeat("a", 48), strings.Repeat("a", 48)},
		{KubeSpawner, "jupyter-", strings.Repeat("a", 49), strings.Repeat("a", 37) + "---" + hashOf(strings.Repeat("a", 49))},
		{KubeSpawner, "a-very-long-hub-namespace-", strings.Repeat("a", 48), ""},
		// hashed: Slug.
		{Hashed, "user-", "jane.doe", "jane-doe-" + hashOf("jane.doe")},
		{Hashed, "user-", "Bob", "bob-" + hashOf("Bob")},
	}
	for _, tt := range tests {
		t.Run(string(tt.scheme)+"/"+tt.user, func(t *testing.T) {
			got, err := tt.scheme.Slug(tt.prefix, tt.user)
			if tt.want == "" {
				var inv *InvalidName
				require.ErrorAs(t, err, &inv)
				assert.Contains(t, err.Error(), `naming "`+string(tt.scheme)+`" maps user "`+tt.user+`"`)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.True(t, IsDNSLabel(tt.prefix+got), tt.prefix+got)
		})
	}
}

func TestUnknownScheme(t *testing.T) {
	_, err := Scheme("slugify").Slug("user-", "a")
	assert.ErrorContains(t, err, `unknown naming scheme "slugify" (known: ood, kubespawner, hashed)`)
}

func TestAssignOOD(t *testing.T) {
	// "a.b" and "a@b" meet under ood: both are user-a-b.
	_, conflicts := Assign(OOD, "user-", []string{"a.b", "a@b", "Carl"}, nil)
	require.Len(t, conflicts, 2)
	var msgs []string
	for _, c := range conflicts {
		msgs = append(msgs, c.Error())
	}
	assert.Contains(t, msgs, `users "a.b" and "a@b" both map to namespace "user-a-b" under naming "ood"; rename one or change spec.namespace.prefix or spec.namespace.naming`)
	assert.Contains(t, strings.Join(msgs, "\n"), `naming "ood" maps user "Carl" to "user-Carl", which is not a valid namespace name`)
}
