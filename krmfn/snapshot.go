package krmfn

import (
	"context"
	"fmt"
	"io"

	"github.com/peruser-dev/peruser/directory"
	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/render"
	"github.com/peruser-dev/peruser/resolve"
	"github.com/peruser-dev/peruser/spec"
)

// runSnapshot is `krm-fn snapshot SITE.yaml`: query the site's directory live and
// print what it resolved to as a DirectorySnapshot, for spec.directory.snapshot. The
// users are checked as a render would check them (names, uids, minUsers, inline users
// merged), so a snapshot that is written never breaks the next render.
func runSnapshot(ctx context.Context, args []string, stdout, stderr io.Writer, env render.Env) error {
	if len(args) != 1 {
		return usageError{"snapshot takes exactly one argument: the site file"}
	}
	doc, err := spec.LoadDocument(args[0])
	if err != nil {
		return err
	}
	site := doc.Site
	d := site.Spec.Directory
	if d == nil {
		return doc.Errors(field.List{field.Errorf("spec.directory", "not set: there is no directory to snapshot")})
	}
	opts := env.ResolveOptions()
	opts.Stderr = stderr
	snap, stats, err := directory.Fetch(ctx, site.Metadata.Name, d, opts.DirectoryEnv())
	if err != nil {
		return doc.Errors(err)
	}
	opts.DirectoryData = snap
	if _, err := resolve.Users(ctx, site, opts); err != nil {
		return doc.Errors(err)
	}
	if err := snap.Write(stdout); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "krm-fn: snapshot: %d users from %s (%d LDAP round trips, %d pages)\n", len(snap.Users), d.URL, stats.RoundTrips, stats.Pages)
	return nil
}
