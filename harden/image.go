package harden

import (
	"sort"
	"strings"
)

// isImagePrefix accepts a registry host (with an optional port) or host/path prefix.
func isImagePrefix(s string) bool {
	return s != "" && !strings.ContainsAny(s, " \t@") && !strings.Contains(s, "://") &&
		!strings.HasPrefix(s, "/") && !strings.HasSuffix(s, "/")
}

// hasImagePrefix reports whether image reference ref starts with prefix at a component
// boundary: docker.io matches docker.io/library/nginx but not docker.io.example.com/x;
// a prefix with a path also matches up to a tag or digest (ghcr.io/org/app:1).
func hasImagePrefix(ref, prefix string) bool {
	if !strings.HasPrefix(ref, prefix) {
		return false
	}
	if len(ref) == len(prefix) {
		return true
	}
	switch ref[len(prefix)] {
	case '/':
		return true
	case ':', '@':
		// After a bare host a colon starts a port, which is a different registry.
		return strings.Contains(prefix, "/")
	}
	return false
}

// fullImageName spells out the registry Docker assumes: nginx → docker.io/library/nginx,
// org/app → docker.io/org/app. References that name a registry are returned as they are.
func fullImageName(ref string) string {
	first, _, found := strings.Cut(ref, "/")
	if found && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return ref
	}
	if !found {
		return "docker.io/library/" + ref
	}
	return "docker.io/" + ref
}

// rewriter applies registry rewrites, longest From first.
type rewriter []RegistryRewrite

func newRewriter(rs []RegistryRewrite) rewriter {
	out := append(rewriter(nil), rs...)
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].From) > len(out[j].From) })
	return out
}

// rewrite returns the rewritten reference and whether a rule applied. A rule matches the
// reference as written or, for references without a registry, Docker's full form, so
// that docker.io=mirror.example.edu/hub also catches "nginx:1.27".
func (rw rewriter) rewrite(ref string) (string, bool) {
	if len(rw) == 0 || ref == "" {
		return ref, false
	}
	full := fullImageName(ref)
	for _, r := range rw {
		if hasImagePrefix(ref, r.From) {
			return r.To + ref[len(r.From):], true
		}
		if full != ref && hasImagePrefix(full, r.From) {
			return r.To + full[len(r.From):], true
		}
	}
	return ref, false
}
