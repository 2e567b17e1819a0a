package harden

import (
	"slices"
	"strings"
	"testing"

	"github.com/peruser-dev/peruser/api/v1alpha1"
)

// TestNew: New refuses what the spec's validation refuses, for the identity pods will
// run as; a resolved identity's system groups are dropped, not refused (a Site lists
// them for its users).
func TestNew(t *testing.T) {
	ok := Identity{UID: 20001, GID: 20001}
	tests := []struct {
		name string
		spec v1alpha1.HardeningSpec
		id   Identity
		want string // a substring of the error; "" means valid
	}{
		{"minimal", v1alpha1.HardeningSpec{}, ok, ""},
		{"root uid", v1alpha1.HardeningSpec{}, Identity{UID: 0, GID: 1}, "spec.identity.uid: must be between 1 and 2147483647, got 0 (uid 0 is root)"},
		{"gid above 2^31-1", v1alpha1.HardeningSpec{}, Identity{UID: 1, GID: 1 << 31}, "spec.identity.gid: must be between 1 and 2147483647"},
		{"a site's system groups", v1alpha1.HardeningSpec{}, Identity{UID: 1, GID: 1, SupplementalGroups: []int64{100, 30001}}, ""},
		{"lifetime", v1alpha1.HardeningSpec{Lifetime: "1d"}, ok, `spec.lifetime: "1d" is not a Go duration`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.spec, tt.id)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("New error = %v, want %q", err, tt.want)
			}
		})
	}
	if got := (Identity{SupplementalGroups: []int64{30002, 100, 30001, 30002}}).normalizedSupplementalGroups(); !slices.Equal(got, []int64{30001, 30002}) {
		t.Errorf("normalized groups %v, want [30001 30002]", got)
	}
}

// TestNewRefusesSystemGroupsGivenExplicitly: a spec's explicit identity is checked as
// given (a supplemental group below 1000 is refused), while the same group in a resolved
// identity with no explicit one in the spec, as a Site's user has it, is dropped.
func TestNewRefusesSystemGroupsGivenExplicitly(t *testing.T) {
	uid, gid := int64(20001), int64(20001)
	explicit := v1alpha1.HardeningSpec{Identity: v1alpha1.HardeningIdentity{UID: &uid, GID: &gid, SupplementalGroups: []int64{100, 30001}}}
	_, err := New(explicit, ExplicitIdentity(explicit.Identity))
	if err == nil || !strings.Contains(err.Error(), "spec.identity.supplementalGroups[0]: must be ≥ 1000, got 100") {
		t.Errorf("explicit group 100: err %v, want a refusal at spec.identity.supplementalGroups[0]", err)
	}
	if _, err := New(v1alpha1.HardeningSpec{}, Identity{UID: uid, GID: gid, SupplementalGroups: []int64{100, 30001}}); err != nil {
		t.Errorf("a resolved identity's system group must be dropped, not refused: %v", err)
	}
}
