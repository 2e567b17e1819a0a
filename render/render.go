// Package render is the pipeline of krm-fn at its edges: it reads the render-time inputs
// a Site points to (files, environment variables), loads the directory's users
// (package directory reads the snapshot or queries LDAP, called from here only),
// resolves the users (package resolve, pure), runs the generators (pure) and writes the
// objects as a YAML stream. What it may read from the outside world is one env.Env
// (internal/env), which it hands to package directory as it is. Besides the command
// lines, only package spec (the Site file itself) and package directory, called from
// here, touch files, the network or the environment.
package render

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/directory"
	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/generators"
	"github.com/peruser-dev/peruser/identity"
	"github.com/peruser-dev/peruser/internal/env"
	"github.com/peruser-dev/peruser/resolve"
	"github.com/peruser-dev/peruser/shard"
)

// Users resolves the site's users exactly as a render does, without generating objects
// (for commands that need the users only, such as `krm-fn users` and the
// post-renderer's --site): the directory's users are loaded here, from the snapshot
// or live LDAP, and resolution itself (package resolve) is pure.
func Users(ctx context.Context, site *v1alpha1.Site, env env.Env) ([]identity.User, error) {
	var snap *directory.Snapshot
	if d := site.Spec.Directory; d != nil {
		var err error
		if snap, err = directory.Load(ctx, site.Metadata.Name, d, env); err != nil {
			return nil, err
		}
	}
	return UsersFrom(site, snap, env.Stderr)
}

// UsersFrom resolves the site's users with snap as the directory's data (nil when the
// site has no directory), for `krm-fn snapshot`, which checks what it fetched before
// writing it.
func UsersFrom(site *v1alpha1.Site, snap *directory.Snapshot, stderr io.Writer) ([]identity.User, error) {
	return resolve.Users(site, snap.Identities(), stderr)
}

// Site renders every object of site. On any error it returns no objects at all: a
// GitOps engine that received a partial list would prune the missing users.
func Site(ctx context.Context, site *v1alpha1.Site, env env.Env) ([]*yaml.RNode, error) {
	in, users, err := prepare(ctx, site, env)
	if err != nil {
		return nil, err
	}
	return generators.Generate(site, users, in)
}

// SiteTo renders site straight to w as a YAML stream, one user at a time, so memory does
// not grow with the number of users. Every check runs before the first byte is written;
// callers that must never leave partial output (krm-fn) still buffer w.
func SiteTo(ctx context.Context, site *v1alpha1.Site, env env.Env, w io.Writer) error {
	return PartTo(ctx, site, shard.Whole, env, w)
}

// PartTo is SiteTo for one part of a sharded site. The whole site is still read,
// resolved and checked first: a part renders only when the whole site would.
func PartTo(ctx context.Context, site *v1alpha1.Site, part shard.Part, env env.Env, w io.Writer) error {
	if err := part.Check(site.ShardCount()); err != nil {
		return err
	}
	in, users, err := prepare(ctx, site, env)
	if err != nil {
		return err
	}
	return generators.StreamPart(site, users, in, part, streamWriter(w).write)
}

// Part renders one part of site as objects (see PartTo).
func Part(ctx context.Context, site *v1alpha1.Site, part shard.Part, env env.Env) ([]*yaml.RNode, error) {
	if err := part.Check(site.ShardCount()); err != nil {
		return nil, err
	}
	in, users, err := prepare(ctx, site, env)
	if err != nil {
		return nil, err
	}
	var out []*yaml.RNode
	err = generators.StreamPart(site, users, in, part, func(batch []*yaml.RNode) error {
		out = append(out, batch...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Split renders every part of a sharded site in one pass (one load, one check, each
// user generated once) and returns each part's YAML stream, the site part included;
// a shard without users has an empty stream.
func Split(ctx context.Context, site *v1alpha1.Site, env env.Env) (map[shard.Part][]byte, error) {
	n := site.ShardCount()
	if n == 0 {
		return nil, field.List{field.Errorf("spec.sharding", "not set: only a sharded site can be split into parts")}
	}
	in, users, err := prepare(ctx, site, env)
	if err != nil {
		return nil, err
	}
	bufs := make(map[shard.Part]*bytes.Buffer, n+1)
	writers := make(map[shard.Part]*stream, n+1)
	for _, p := range shard.All(n) {
		bufs[p] = new(bytes.Buffer)
		writers[p] = streamWriter(bufs[p])
	}
	all := func(identity.User) bool { return true }
	err = generators.Visit(site, users, in, true, all, func(u *identity.User, batch []*yaml.RNode) error {
		p := shard.SitePart
		if u != nil {
			p = shard.User(shard.Of(u.Name, n))
		}
		return writers[p].write(batch)
	})
	if err != nil {
		return nil, err
	}
	out := make(map[shard.Part][]byte, len(bufs))
	for p, b := range bufs {
		out[p] = b.Bytes()
	}
	return out, nil
}

// stream writes batches of objects to one YAML stream, with a separator between them.
type stream struct {
	w       io.Writer
	started bool
}

func streamWriter(w io.Writer) *stream { return &stream{w: w} }

func (s *stream) write(batch []*yaml.RNode) error {
	if len(batch) == 0 {
		return nil
	}
	if s.started {
		if _, err := io.WriteString(s.w, "---\n"); err != nil {
			return fmt.Errorf("writing objects: %w", err)
		}
	}
	s.started = true
	return Write(s.w, batch)
}

// prepare reads the render-time inputs and resolves the users.
func prepare(ctx context.Context, site *v1alpha1.Site, env env.Env) (generators.Inputs, []identity.User, error) {
	in, err := ReadInputs(site, env)
	if err != nil {
		return in, nil, err
	}
	users, err := Users(ctx, site, env)
	if err != nil {
		return in, nil, err
	}
	return in, users, nil
}

// ReadInputs reads and checks what the spec points to: the registry's docker config.
func ReadInputs(site *v1alpha1.Site, env env.Env) (generators.Inputs, error) {
	var in generators.Inputs
	if reg := site.Spec.Registry; reg != nil && reg.ExternalSecret == nil {
		b, err := readDockerConfig(reg, env)
		if err != nil {
			return in, err
		}
		in.DockerConfigJSON = b
	}
	return in, nil
}

func readDockerConfig(reg *v1alpha1.Registry, env env.Env) ([]byte, error) {
	var (
		b    []byte
		path field.Path
		what string
	)
	switch {
	case reg.DockerConfigJSONFile != "":
		path = "spec.registry.dockerConfigJSONFile"
		what = reg.DockerConfigJSONFile
		p := env.Path(reg.DockerConfigJSONFile)
		var err error
		if b, err = os.ReadFile(p); err != nil {
			return nil, field.List{field.Errorf(path.String(), "cannot read %s: %v", p, unwrapPathError(err))}
		}
	case reg.DockerConfigJSONEnv != "":
		path = "spec.registry.dockerConfigJSONEnv"
		what = "$" + reg.DockerConfigJSONEnv
		b = []byte(env.Var(reg.DockerConfigJSONEnv))
		if len(strings.TrimSpace(string(b))) == 0 {
			return nil, field.List{field.Errorf(path.String(), "environment variable %s is not set or empty", reg.DockerConfigJSONEnv)}
		}
	}
	if err := checkDockerConfig(b); err != nil {
		return nil, field.List{field.Errorf(path.String(), "%s: %v", what, err)}
	}
	return b, nil
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// Write writes objects as a YAML stream without reader annotations.
func Write(w io.Writer, objects []*yaml.RNode) error {
	if err := (kio.ByteWriter{Writer: w}).Write(objects); err != nil {
		return fmt.Errorf("writing objects: %w", err)
	}
	return nil
}
