package v1alpha1

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// DefaultMaxRemovals is the removal guard of `krm-fn snapshot` when
// spec.directory.maxRemovals is unset: a tenth of the previous snapshot's users.
const DefaultMaxRemovals = "10%"

// MinimumUsers is the fewest users the site may resolve to, and the field that sets
// it (for error messages). A site that resolves to fewer is an error rather than a
// smaller output, because a GitOps engine with pruning would revoke everyone missing.
//
// spec.minUsers (default 1) applies to every site. spec.directory.minUsers, the
// older spelling for directory sites, is kept: when both are set the larger wins; when
// only one is set it alone decides (so spec.directory.minUsers: 0 still allows an empty
// directory). 0 is the explicit way to render an empty site.
func (s *Site) MinimumUsers() (int, string) {
	site := s.Spec.MinUsers
	var dir *int
	if d := s.Spec.Directory; d != nil {
		dir = d.MinUsers
	}
	switch {
	case site != nil && dir != nil && *dir > *site:
		return *dir, "spec.directory.minUsers"
	case site != nil:
		return *site, "spec.minUsers"
	case dir != nil:
		return *dir, "spec.directory.minUsers"
	}
	return DefaultMinUsers, "spec.minUsers"
}

// CountOrPercent is a number of users (3) or a share of them ("10%"), written in YAML
// as an integer or a string ending in %.
type CountOrPercent struct {
	Value   int
	Percent bool
}

// ParseCountOrPercent reads "3" or "10%".
func ParseCountOrPercent(s string) (CountOrPercent, error) {
	num, pct := strings.CutSuffix(s, "%")
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 || num != strconv.Itoa(n) {
		return CountOrPercent{}, fmt.Errorf("%q is neither a count (3) nor a percentage (\"10%%\")", s)
	}
	if pct && n > 100 {
		return CountOrPercent{}, fmt.Errorf("%q is above 100%%", s)
	}
	return CountOrPercent{Value: n, Percent: pct}, nil
}

// UnmarshalJSON accepts an integer or a "N%" string.
func (c *CountOrPercent) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		if n < 0 {
			return fmt.Errorf("must be ≥ 0, got %d", n)
		}
		*c = CountOrPercent{Value: n}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("must be a count (3) or a percentage (\"10%%\"), got %s", b)
	}
	v, err := ParseCountOrPercent(s)
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// MarshalJSON writes the form it was read in.
func (c CountOrPercent) MarshalJSON() ([]byte, error) {
	if c.Percent {
		return json.Marshal(c.String())
	}
	return json.Marshal(c.Value)
}

func (c CountOrPercent) String() string {
	if c.Percent {
		return strconv.Itoa(c.Value) + "%"
	}
	return strconv.Itoa(c.Value)
}

// Of is the number of users allowed out of total: a count as it is; a percentage of
// total rounded down, but at least 1 for a non-zero percentage, so that one user
// leaving a small site is never a refusal on its own.
func (c CountOrPercent) Of(total int) int {
	if !c.Percent {
		return c.Value
	}
	n := total * c.Value / 100
	if n == 0 && c.Value > 0 && total > 0 {
		n = 1
	}
	return n
}

// RemovalLimit is the directory's maxRemovals, or DefaultMaxRemovals.
func (d *Directory) RemovalLimit() CountOrPercent {
	if d.MaxRemovals != nil {
		return *d.MaxRemovals
	}
	c, _ := ParseCountOrPercent(DefaultMaxRemovals)
	return c
}
