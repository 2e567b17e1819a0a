package v1alpha1

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/identity"
	"github.com/peruser-dev/peruser/naming"
)

// Validate checks what the JSON Schema cannot express: uniqueness, references between
// fields, label syntax and CIDR syntax. Call it after Default. The schema has already
// checked types, required fields and unknown fields.
func (s *Site) Validate() field.List {
	var errs field.List
	spec := field.Path("spec")
	errs = append(errs, validateSiteName(s.Metadata.Name)...) // apiserver_validation.go
	errs = append(errs, validateMap(spec.Child("namespace").Child("labels"), s.Spec.Namespace.Labels, true)...)
	errs = append(errs, validateMap(spec.Child("namespace").Child("annotations"), s.Spec.Namespace.Annotations, false)...)
	errs = append(errs, s.validateUsers(spec.Child("users"))...)
	errs = append(errs, s.validateProfiles(spec.Child("profiles"))...)
	if d := s.Spec.Directory; d != nil {
		errs = append(errs, d.Validate(spec.Child("directory"))...)
	}
	if r := s.Spec.Registry; r != nil {
		sources := 0
		for _, set := range []bool{r.DockerConfigJSONFile != "", r.DockerConfigJSONEnv != "", r.ExternalSecret != nil} {
			if set {
				sources++
			}
		}
		if sources != 1 {
			errs = append(errs, field.Errorf(spec.Child("registry").String(),
				"set exactly one of dockerConfigJSONFile, dockerConfigJSONEnv or externalSecret (the pull secret is never written in the spec)"))
		}
	}
	errs = append(errs, s.validateFeatures(spec)...)                     // features_validation.go
	errs = append(errs, s.validateAdmission(spec.Child("admission"))...) // admission.go
	if n := naming.Scheme(s.Spec.Namespace.Naming); !n.Known() {
		errs = append(errs, field.Errorf(spec.Child("namespace").Child("naming").String(), "unknown naming %q (known: %s)", n, naming.SchemeList()))
	}
	errs = append(errs, s.validateMounts(spec.Child("mounts"))...) // mounts.go
	np := spec.Child("networkPolicy")
	errs = append(errs, validateCIDRs(np.Child("allowCIDRs"), s.Spec.NetworkPolicy.AllowCIDRs)...)
	errs = append(errs, validateCIDRs(np.Child("egress").Child("allowCIDRs"), s.Spec.NetworkPolicy.Egress.AllowCIDRs)...)
	dp := np.Child("egress").Child("dnsAddresses")
	for i, a := range s.Spec.NetworkPolicy.Egress.DNSAddresses {
		if strings.Contains(a, "/") {
			errs = append(errs, validateCIDR(dp.Index(i), a)...)
		} else if _, err := netip.ParseAddr(a); err != nil {
			errs = append(errs, field.Errorf(dp.Index(i).String(), "not an IP address or CIDR: %v", err))
		}
	}
	return errs
}

func (s *Site) validateUsers(path field.Path) field.List {
	var errs field.List
	ids := make([]identity.User, len(s.Spec.Users))
	for i, u := range s.Spec.Users {
		ids[i] = u.Identity()
	}
	for _, p := range identity.Check(ids, func(j int) string { return path.Index(j).String() }) {
		errs = append(errs, field.Errorf(path.Index(p.Index).String()+"."+p.Field, "%s", p.Message))
	}
	for i, u := range s.Spec.Users {
		if u.Profile != "" {
			if _, ok := s.Spec.Profiles[u.Profile]; !ok {
				errs = append(errs, field.Errorf(path.Index(i).Child("profile").String(), "profile %q is not defined in spec.profiles (defined: %s)",
					u.Profile, s.profileNames()))
			}
		}
	}
	return errs
}

// Identity is the user as the identity rule and the generators see it, groups in
// spec order.
func (u User) Identity() identity.User {
	groups := make([]identity.Group, len(u.Groups))
	for i, g := range u.Groups {
		groups[i] = identity.Group{Name: g.Name, GID: g.GID}
	}
	return identity.User{Name: u.Name, UID: u.UID, GID: u.GID, Groups: groups, Profile: u.Profile}
}

// ProfileNames are the site's profile names in name order, the order in which profiles
// are matched against a user's groups.
func (s *Site) ProfileNames() []string { return slices.Sorted(maps.Keys(s.Spec.Profiles)) }

func (s *Site) profileNames() string {
	if len(s.Spec.Profiles) == 0 {
		return "none"
	}
	return strings.Join(s.ProfileNames(), ", ")
}

func (s *Site) validateProfiles(path field.Path) field.List {
	var errs field.List
	for _, n := range s.ProfileNames() {
		p := path.Key(n)
		prof := s.Spec.Profiles[n]
		errs = append(errs, validateQuantities(p.Child("quota"), prof.Quota)...)
		errs = append(errs, validateResourceNames(p.Child("quota"), prof.Quota, true)...)
		if l := prof.Limits; l != nil {
			lp := p.Child("limits")
			for _, r := range []struct {
				name string
				res  Resources
			}{{"defaultRequest", l.DefaultRequest}, {"default", l.Default}, {"max", l.Max}, {"min", l.Min}} {
				errs = append(errs, validateResourceNames(lp.Child(r.name), r.res, false)...)
			}
			errs = append(errs, validateQuantities(lp.Child("defaultRequest"), l.DefaultRequest)...)
			errs = append(errs, validateQuantities(lp.Child("default"), l.Default)...)
			errs = append(errs, validateQuantities(lp.Child("max"), l.Max)...)
			errs = append(errs, validateQuantities(lp.Child("min"), l.Min)...)
			errs = append(errs, validateMinMax(lp, l)...)
		}
	}
	return errs
}

// validateMinMax catches a LimitRange the apiserver would refuse: default or
// defaultRequest above max, or below min.
func validateMinMax(p field.Path, l *Limits) field.List {
	var errs field.List
	for _, name := range sortedKeys(l.Max) {
		max, err := ParseQuantity(l.Max[name])
		if err != nil {
			continue // the schema reports syntax
		}
		for _, pair := range []struct {
			field string
			r     Resources
		}{{"default", l.Default}, {"defaultRequest", l.DefaultRequest}, {"min", l.Min}} {
			v, ok := pair.r[name]
			if !ok {
				continue
			}
			q, err := ParseQuantity(v)
			if err == nil && q.Cmp(max) > 0 {
				errs = append(errs, field.Errorf(p.Child(pair.field).Key(name).String(), "%s is above max %s", v, l.Max[name]))
			}
		}
	}
	return errs
}

// validateQuantities parses every quantity with the apiserver's own rules; the schema's
// pattern is only a first filter for editors.
func validateQuantities(p field.Path, r Resources) field.List {
	var errs field.List
	for _, name := range sortedKeys(r) {
		if _, err := ParseQuantity(r[name]); err != nil {
			errs = append(errs, field.Errorf(p.Key(name).String(), "%v", err))
		}
	}
	return errs
}

func sortedKeys(r Resources) []string { return slices.Sorted(maps.Keys(r)) }

func validateCIDRs(p field.Path, cidrs []string) field.List {
	var errs field.List
	for i, c := range cidrs {
		errs = append(errs, validateCIDR(p.Index(i), c)...)
	}
	return errs
}

// validateCIDR checks one CIDR the way the apiserver checks an ipBlock's cidr.
func validateCIDR(p field.Path, c string) field.List {
	pfx, err := netip.ParsePrefix(c)
	if err != nil {
		return field.List{field.Errorf(p.String(), "not a CIDR: %v", err)}
	}
	if pfx.Masked() != pfx {
		return field.List{field.Errorf(p.String(), "%s has host bits set; did you mean %s?", c, pfx.Masked())}
	}
	return nil
}

// validateMap checks label (isLabel) or annotation keys and values the way the
// apiserver will, so a typo fails the render instead of the sync.
func validateMap(p field.Path, m map[string]string, isLabel bool) field.List {
	var errs field.List
	for _, k := range sortedStrings(m) {
		for _, msg := range validation.IsQualifiedName(k) {
			errs = append(errs, field.Errorf(p.Key(k).String(), "invalid key: %s", msg))
		}
		if isLabel {
			for _, msg := range validation.IsValidLabelValue(m[k]) {
				errs = append(errs, field.Errorf(p.Key(k).String(), "invalid label value %q: %s", m[k], msg))
			}
		}
	}
	return errs
}

func sortedStrings(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

// ParseQuantity parses a Quantity with the apimachinery rules.
func ParseQuantity(q Quantity) (resource.Quantity, error) {
	v, err := resource.ParseQuantity(string(q))
	if err != nil {
		return v, fmt.Errorf("invalid quantity %q: %w", q, err)
	}
	return v, nil
}
