package v1alpha1

import (
	"math"
	"time"

	"github.com/peruser-dev/peruser/field"
)

// durationRange is what a duration field accepts, and how a message says it.
type durationRange struct {
	min, max time.Duration
	says     string
}

var (
	// positive is every duration field without a range of its own (reaper ages,
	// the Hardening's lifetime).
	positive = durationRange{min: time.Nanosecond, max: math.MaxInt64, says: "positive"}
	// timeoutRange bounds the directory's timeouts: shorter fails every server, longer
	// hangs a render.
	timeoutRange = durationRange{min: 100 * time.Millisecond, max: time.Hour, says: "between 100ms and 1h"}
)

// validateDuration is the one check of a Go duration field: it parses and lies in r.
func validateDuration(p field.Path, d string, r durationRange) field.List {
	v, err := time.ParseDuration(d)
	switch {
	case err != nil:
		return field.List{field.Errorf(p.String(), "%q is not a Go duration such as 168h or 30m", d)}
	case v < r.min || v > r.max:
		return field.List{field.Errorf(p.String(), "must be %s, got %s", r.says, d)}
	}
	return nil
}
