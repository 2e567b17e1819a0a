package naming

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// Scheme is a rule that turns a username into the part of a namespace name that
// follows the site's prefix. Each scheme is the rule of the system whose namespaces a
// site must meet: a site picks the one its users' pods are started by.
type Scheme string

const (
	// OOD is Open OnDemand's own rule (ood_core ≥ v0.27.0, Kubernetes adapter,
	// `def namespace`): the username with every '.' and '@' replaced by '-', nothing
	// else changed. A username that still is not a valid name (uppercase, '_', too
	// long) cannot be given a namespace OOD would find.
	OOD Scheme = "ood"
	// KubeSpawner is JupyterHub KubeSpawner's "safe" slug scheme (kubespawner/slugs.py,
	// safe_slug with the 48-character limit KubeSpawner uses for {username}), the
	// {username} of its user_namespace_template.
	KubeSpawner Scheme = "kubespawner"
	// Hashed keeps lowercase letters, digits and '-', lowercases the rest or turns it
	// into '-', and appends a hash of the raw username whenever that lost information
	// (see Slug). It never fails and never lets two usernames meet.
	Hashed Scheme = "hashed"
)

// Schemes are the known schemes, in the order documentation lists them.
var Schemes = []Scheme{OOD, KubeSpawner, Hashed}

// Known reports whether s is one of Schemes.
func (s Scheme) Known() bool {
	for _, k := range Schemes {
		if s == k {
			return true
		}
	}
	return false
}

// InvalidName says why a scheme gives a user no usable namespace.
type InvalidName struct {
	Scheme    Scheme
	Username  string
	Namespace string
}

func (e *InvalidName) Error() string {
	return fmt.Sprintf("naming %q maps user %q to %q, which is not a valid namespace name (lowercase letters, digits and '-', starting and ending with a letter or digit, at most %d characters)",
		e.Scheme, e.Username, e.Namespace, MaxLabel)
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// IsDNSLabel reports whether s is a DNS-1123 label, the form of a namespace name.
func IsDNSLabel(s string) bool { return len(s) <= MaxLabel && dnsLabel.MatchString(s) }

// Slug is the part of username's namespace after prefix under scheme s, or an
// *InvalidName when prefix + slug is not a valid namespace name.
func (s Scheme) Slug(prefix, username string) (string, error) {
	var slug string
	switch s {
	case OOD:
		slug = oodReplacer.Replace(username)
	case KubeSpawner:
		slug = SafeSlug(username, kubeSpawnerMaxLength)
	case Hashed:
		slug, _ = Slug(prefix, username)
	default:
		return "", fmt.Errorf("unknown naming scheme %q (known: %s)", s, SchemeList())
	}
	if !IsDNSLabel(prefix + slug) {
		return "", &InvalidName{Scheme: s, Username: username, Namespace: prefix + slug}
	}
	return slug, nil
}

// SchemeList is Schemes for messages: "ood, kubespawner, hashed".
func SchemeList() string {
	out := make([]string, len(Schemes))
	for i, s := range Schemes {
		out[i] = string(s)
	}
	return strings.Join(out, ", ")
}

// OODNamespace is the namespace Open OnDemand's Kubernetes adapter uses for username,
// whatever scheme a site names its namespaces with.
func OODNamespace(prefix, username string) string { return prefix + oodReplacer.Replace(username) }

// oodReplacer is ood_core's `username.gsub(/[.@]/, '-')`.
var oodReplacer = strings.NewReplacer(".", "-", "@", "-")

// kubeSpawnerMaxLength is the max_length KubeSpawner passes to safe_slug for the
// {username} of its templates (_slug_max_length in spawner.py).
const kubeSpawnerMaxLength = 48

// safeSlugHashLen is kubespawner's _hash_length.
const safeSlugHashLen = 8

// SafeSlug is kubespawner's safe_slug(name, max_length=maxLength) with its default
// validity check (is_valid_object_name); maxLength 0 is Python's None. A name that is
// already a valid object name (starts with a lowercase letter, ends with a letter or
// digit, only [a-z0-9-], at most 63 and maxLength characters) and holds no "--" is kept;
// any other becomes strip_and_hash(name): a safe prefix, "---" and 8 hex digits of the
// name's SHA-256.
func SafeSlug(name string, maxLength int) string {
	if !strings.Contains(name, "--") && isValidObjectName(name) && (maxLength == 0 || len(name) <= maxLength) {
		return name
	}
	if maxLength == 0 {
		maxLength = 32
	}
	return stripAndHash(name, maxLength)
}

// isValidObjectName is kubespawner's is_valid_object_name.
func isValidObjectName(s string) bool {
	if len(s) < 1 || len(s) > MaxLabel {
		return false
	}
	if s[0] < 'a' || s[0] > 'z' {
		return false
	}
	last := s[len(s)-1]
	if !(last >= 'a' && last <= 'z' || last >= '0' && last <= '9') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// stripAndHash is kubespawner's strip_and_hash. maxLength must be at least 12.
func stripAndHash(name string, maxLength int) string {
	sum := sha256.Sum256([]byte(name))
	return extractSafeName(name, maxLength-(safeSlugHashLen+3)) + "---" + hex.EncodeToString(sum[:])[:safeSlugHashLen]
}

// extractSafeName is kubespawner's _extract_safe_name: lowercase (Python's str.lower),
// every run of characters other than [a-z0-9] becomes one '-', leading '-' dropped,
// cut to maxLength, trailing '-' dropped; "x-" put in front of a name that does not
// start with a letter, and "x" for an empty one.
func extractSafeName(name string, maxLength int) string {
	var b strings.Builder
	dash := false
	for _, r := range pythonLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	safe := strings.TrimLeft(b.String(), "-") // ASCII from here on: bytes are characters
	if len(safe) > maxLength {
		safe = safe[:maxLength]
	}
	safe = strings.TrimRight(safe, "-")
	if safe != "" && (safe[0] < 'a' || safe[0] > 'z') {
		keep := maxLength - 2
		if keep > len(safe) {
			keep = len(safe)
		}
		safe = "x-" + safe[:keep]
	}
	if safe == "" {
		safe = "x"
	}
	return safe
}

// pythonLower is Python's str.lower as far as it matters here: Go's per-rune
// lowercase, except U+0130 (İ), which Python maps to "i" and a combining dot (the one
// unconditional multi-rune lowercase mapping), so that the dot becomes a '-' here too.
func pythonLower(s string) string {
	if !strings.ContainsRune(s, 'İ') {
		return strings.ToLower(s)
	}
	return strings.ToLower(strings.ReplaceAll(s, "İ", "i\u0307"))
}
