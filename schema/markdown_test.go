package schema_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peruser-dev/peruser/internal/golden"
	"github.com/peruser-dev/peruser/internal/testenv"
	"github.com/peruser-dev/peruser/schema"
)

// TestSpecReferenceUpToDate keeps docs/spec.md, the README's spec reference, generated
// from the schema the binary embeds.
func TestSpecReferenceUpToDate(t *testing.T) {
	md, err := schema.Markdown(schema.SiteJSON, "Site spec reference (peruser.dev/v1alpha1)")
	require.NoError(t, err)
	golden.Assert(t, filepath.Join(testenv.RepoRoot(), "docs", "spec.md"), []byte(md))
}
