package harden

import (
	"sort"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/internal/podrules"
)

// rewriter applies registry rewrites, longest From first.
type rewriter []v1alpha1.RegistryRewrite

func newRewriter(rs []v1alpha1.RegistryRewrite) rewriter {
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
	full := podrules.FullImageName(ref)
	for _, r := range rw {
		if podrules.HasImagePrefix(ref, r.From) {
			return r.To + ref[len(r.From):], true
		}
		if full != ref && podrules.HasImagePrefix(full, r.From) {
			return r.To + full[len(r.From):], true
		}
	}
	return ref, false
}
