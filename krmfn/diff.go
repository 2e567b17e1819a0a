package krmfn

import (
	"context"
	"io"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/directory"
	"github.com/peruser-dev/peruser/identity"
	"github.com/peruser-dev/peruser/internal/env"
	"github.com/peruser-dev/peruser/render"
	"github.com/peruser-dev/peruser/spec"
	"github.com/peruser-dev/peruser/userdiff"
)

// exitChanged is the exit code of `krm-fn diff` when the users differ: distinct from
// 1 (an error), 2 (usage) and 3 (internal error), so CI can tell "changed" from "broken".
const exitChanged = 4

// errChanged makes Run print the diff and exit with exitChanged.
type errChanged struct{}

func (errChanged) Error() string { return "users changed" }

// runDiff is `krm-fn diff OLD NEW`: what changes for the users between two Sites or
// two directory snapshots (or one of each), as a summary for a pull-request comment.
// A Site is resolved as a render would resolve it (its snapshot file or directory,
// relative paths read from the working directory). Exit 0: no change; 4: changes.
func runDiff(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, env env.Env) error {
	if len(args) != 2 {
		return usageError{"diff takes exactly two arguments: the old and the new Site or DirectorySnapshot"}
	}
	if args[0] == "-" && args[1] == "-" {
		return usageError{"diff: only one of OLD and NEW can be - (stdin)"}
	}
	old, oldSnap, err := diffSide(ctx, args[0], stdin, env)
	if err != nil {
		return err
	}
	new, newSnap, err := diffSide(ctx, args[1], stdin, env)
	if err != nil {
		return err
	}
	if oldSnap || newSnap {
		// A snapshot knows no profiles or namespaces: compare what both sides know.
		old, new = identitiesOnly(old), identitiesOnly(new)
	}
	sum := userdiff.Compare(old, new)
	if err := sum.Write(stdout, ""); err != nil {
		return err
	}
	if sum.Empty() {
		return nil
	}
	return errChanged{}
}

// diffSide reads the users of a Site or a DirectorySnapshot file.
func diffSide(ctx context.Context, path string, stdin io.Reader, env env.Env) ([]identity.User, bool, error) {
	data, path, err := readSiteFile(path, stdin) // shards.go
	if err != nil {
		return nil, false, err
	}
	var head struct {
		Kind string `yaml:"kind"`
	}
	if yaml.Unmarshal(data, &head) == nil && head.Kind == directory.SnapshotKind {
		snap, err := directory.ParseSnapshot(data, path)
		if err != nil {
			return nil, false, err
		}
		return snap.Identities(), true, nil
	}
	doc, err := spec.ParseDocument(data, path)
	if err != nil {
		return nil, false, err
	}
	users, err := render.Users(ctx, doc.Site, env)
	if err != nil {
		return nil, false, doc.Errors(err)
	}
	return users, false, nil
}

func identitiesOnly(users []identity.User) []identity.User {
	out := make([]identity.User, len(users))
	for i, u := range users {
		out[i] = identity.User{Name: u.Name, UID: u.UID, GID: u.GID, Groups: u.Groups}
	}
	return out
}
