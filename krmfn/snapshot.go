package krmfn

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/peruser-dev/peruser/directory"
	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/identity"
	"github.com/peruser-dev/peruser/internal/env"
	"github.com/peruser-dev/peruser/render"
	"github.com/peruser-dev/peruser/spec"
	"github.com/peruser-dev/peruser/userdiff"
)

// snapshotArgs is `snapshot [--allow-removals] [--write] SITE.yaml`.
type snapshotArgs struct {
	site          string
	allowRemovals bool
	write         bool
}

func parseSnapshotArgs(args []string) (snapshotArgs, error) {
	var a snapshotArgs
	for _, arg := range args {
		switch {
		case arg == "--allow-removals":
			a.allowRemovals = true
		case arg == "--write":
			a.write = true
		case len(arg) > 1 && arg[0] == '-':
			return a, usageError{fmt.Sprintf("snapshot: unknown flag %s (accepted: --allow-removals, --write)", arg)}
		case a.site != "":
			return a, usageError{"snapshot takes exactly one site file"}
		default:
			a.site = arg
		}
	}
	if a.site == "" {
		return a, usageError{"snapshot takes exactly one argument: the site file"}
	}
	return a, nil
}

// runSnapshot is `krm-fn snapshot SITE.yaml`: query the site's directory live and
// print what it resolved to as a DirectorySnapshot, for spec.directory.snapshot (or,
// with --write, replace that file atomically). The users are checked as a render
// would check them (names, uids, minUsers, inline users merged), so a snapshot that is
// written never breaks the next render.
//
// When the site's snapshot file exists, the new snapshot is compared with it: the
// summary goes to stderr, and dropping more users than spec.directory.maxRemovals
// allows is an error unless --allow-removals is given — a directory filter edited by
// mistake must not revoke most users' access at the next sync.
func runSnapshot(ctx context.Context, args []string, stdout, stderr io.Writer, env env.Env) error {
	a, err := parseSnapshotArgs(args)
	if err != nil {
		return err
	}
	doc, err := spec.LoadDocument(a.site)
	if err != nil {
		return err
	}
	site := doc.Site
	d := site.Spec.Directory
	if d == nil {
		return doc.Errors(field.List{field.Errorf("spec.directory", "not set: there is no directory to snapshot")})
	}
	if a.write && d.Snapshot == "" {
		return doc.Errors(field.List{field.Errorf("spec.directory.snapshot", "not set: --write needs the file to replace")})
	}
	env.Stderr = stderr
	snap, stats, err := directory.Fetch(ctx, site.Metadata.Name, d, env)
	if err != nil {
		return doc.Errors(err)
	}
	if _, err := render.UsersFrom(site, snap, stderr); err != nil {
		return doc.Errors(err)
	}
	fmt.Fprintf(stderr, "krm-fn: snapshot: %d users from %s (%d LDAP round trips, %d pages)\n", len(snap.Users), d.URL, stats.RoundTrips, stats.Pages)
	// Users as the site sees them (with profiles and namespaces), for the summary.
	usersOf := func(s *directory.Snapshot) []identity.User {
		if users, err := render.UsersFrom(site, s, io.Discard); err == nil {
			return users
		}
		return s.Identities() // an old snapshot the site no longer accepts: identities only
	}
	if err := guardRemovals(doc, env.Path(d.Snapshot), snap, usersOf, a.allowRemovals, stderr); err != nil {
		return err
	}
	if a.write {
		return writeAtomically(env.Path(d.Snapshot), snap)
	}
	return snap.Write(stdout)
}

// guardRemovals compares snap with the snapshot file at path, when there is one.
func guardRemovals(doc *spec.Document, path string, snap *directory.Snapshot, usersOf func(*directory.Snapshot) []identity.User,
	allow bool, stderr io.Writer) error {
	if path == "" {
		return nil
	}
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return nil // the first snapshot: nothing to compare with
	}
	prev, err := directory.ReadSnapshot(path)
	if err != nil {
		// An unreadable old file is no baseline; say so rather than guess.
		return doc.Errors(field.List{field.Errorf("spec.directory.snapshot", "cannot compare with the current snapshot: %v", err)})
	}
	sum := userdiff.Compare(usersOf(prev), usersOf(snap))
	if err := sum.Write(stderr, "krm-fn: snapshot: "); err != nil {
		return err
	}
	limit := doc.Site.Spec.Directory.RemovalLimit()
	max := limit.Of(len(prev.Users))
	if len(sum.Removed) <= max || allow {
		return nil
	}
	return doc.Errors(field.List{field.Errorf("spec.directory.maxRemovals",
		"the new snapshot removes %d of %d users, more than maxRemovals %s (%d): refusing to revoke their access; check the directory and spec.directory.users, or run again with --allow-removals if this is intended",
		len(sum.Removed), len(prev.Users), limit, max)})
}

// writeAtomically replaces path with snap: a temporary file in the same directory,
// synced, then renamed over path, so a reader never sees a partial snapshot.
func writeAtomically(path string, snap *directory.Snapshot) error {
	b, err := snap.Marshal()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing snapshot: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("writing snapshot: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing snapshot: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing snapshot: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("writing snapshot: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing snapshot: %w", err)
	}
	return nil
}
