package v1alpha1_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peruser-dev/peruser/api/v1alpha1"
)

func TestMinimumUsers(t *testing.T) {
	n := func(v int) *int { return &v }
	for _, tc := range []struct {
		name      string
		site, dir *int
		directory bool
		want      int
		wantPath  string
	}{
		{"default", nil, nil, false, 1, "spec.minUsers"},
		{"directory default", nil, nil, true, 1, "spec.minUsers"},
		{"site zero renders empty", n(0), nil, true, 0, "spec.minUsers"},
		{"directory alone decides", nil, n(0), true, 0, "spec.directory.minUsers"},
		{"directory larger", n(5), n(50), true, 50, "spec.directory.minUsers"},
		{"site larger", n(50), n(5), true, 50, "spec.minUsers"},
		{"equal names the site", n(5), n(5), true, 5, "spec.minUsers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &v1alpha1.Site{Spec: v1alpha1.SiteSpec{MinUsers: tc.site}}
			if tc.directory {
				s.Spec.Directory = &v1alpha1.Directory{MinUsers: tc.dir}
			}
			got, path := s.MinimumUsers()
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.wantPath, path)
		})
	}
}

func TestCountOrPercent(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    string
		of, n   int
		wantErr bool
	}{
		{in: `3`, want: "3", of: 100, n: 3},
		{in: `"10%"`, want: "10%", of: 1000, n: 100},
		{in: `"10%"`, want: "10%", of: 5, n: 1}, // at least one
		{in: `"0%"`, want: "0%", of: 5, n: 0},
		{in: `0`, want: "0", of: 5, n: 0},
		{in: `"100%"`, want: "100%", of: 7, n: 7},
		{in: `"101%"`, wantErr: true},
		{in: `-1`, wantErr: true},
		{in: `"ten"`, wantErr: true},
		{in: `"05%"`, wantErr: true},
		{in: `1.5`, wantErr: true},
	} {
		var c v1alpha1.CountOrPercent
		err := json.Unmarshal([]byte(tc.in), &c)
		if tc.wantErr {
			assert.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, c.String())
		assert.Equal(t, tc.n, c.Of(tc.of), tc.in)
		b, err := json.Marshal(c)
		require.NoError(t, err)
		assert.JSONEq(t, tc.in, string(b))
	}
}
