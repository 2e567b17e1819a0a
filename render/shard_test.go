package render_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peruser-dev/peruser/internal/env"
	"github.com/peruser-dev/peruser/internal/sitegen"
	"github.com/peruser-dev/peruser/internal/streamtest"
	"github.com/peruser-dev/peruser/render"
	"github.com/peruser-dev/peruser/shard"
	"github.com/peruser-dev/peruser/spec"
)

// shardedSite is a site of n users with every per-user and site-wide feature that has
// objects, names with dots, @ and uppercase, sharded into shards.
func shardedSite(t *testing.T, n, shards int) []byte {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: peruser.dev/v1alpha1
kind: Site
metadata: {name: sharded}
spec:
  sharding: {shards: %d}
  namespace: {naming: hashed}   # uppercase users below
  rbac: {clusterRoles: true}
  admission: {validatingAdmissionPolicy: true, ldapConfigMaps: {namespace: k8-ldap-configmap}}
  reapers: {jobPodReaper: {enabled: true}}
  registry: {dockerConfigJSONFile: registry.json}
  storage: {nfs: {server: nfs.example.edu, path: "/home/{user}"}, capacity: 10Gi}
  ingress: {domain: pods.example.edu, className: nginx, tlsSecretName: wildcard}
  profiles:
    default: {quota: {requests.cpu: "4", requests.memory: 8Gi, requests.storage: 100Gi, pods: "20"}}
  users:
`, shards)
	for i := 0; i < n; i++ {
		name := []string{"user%03d", "first.last%03d", "u%03d@example.edu", "Upper%03d"}[i%4]
		fmt.Fprintf(&b, "    - {name: %q, uid: %d, gid: %d, groups: [{name: g%d, gid: %d}]}\n",
			fmt.Sprintf(name, i), 20000+i, 20000+i, i%3, 30000+i%3)
	}
	return []byte(b.String())
}

// TestPartsUnionIsTheWholeSite: for several shard counts, the site part and every shard
// together hold exactly the objects of the unsharded render, each byte-identical, each
// in exactly one part; site-wide objects are only in the site part. --out-dir's split
// render gives the same parts as rendering each part on its own.
func TestPartsUnionIsTheWholeSite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "registry.json"), []byte(sitegen.DockerConfig), 0o600))
	env := env.Env{Dir: dir, Getenv: func(string) string { return "" }, Stderr: os.Stderr}
	for _, shards := range []int{1, 3, 7, 16} {
		t.Run(fmt.Sprint(shards), func(t *testing.T) {
			doc, err := spec.ParseDocument(shardedSite(t, 60, shards), "site.yaml")
			require.NoError(t, err)
			var whole bytes.Buffer
			require.NoError(t, render.PartTo(ctx, doc.Site, shard.Whole, env, &whole))
			want := streamtest.Objects(t, whole.Bytes())

			split, err := render.Split(ctx, doc.Site, env)
			require.NoError(t, err)
			require.Len(t, split, shards+1)
			got := map[string]string{}
			for _, p := range shard.All(shards) {
				var b bytes.Buffer
				require.NoError(t, render.PartTo(ctx, doc.Site, p, env, &b))
				assert.Equal(t, b.String(), string(split[p]), "part %s: split render differs", p)
				for key, obj := range streamtest.Objects(t, b.Bytes()) {
					_, dup := got[key]
					require.False(t, dup, "%s is in two parts", key)
					got[key] = obj
					siteWide := !strings.Contains(obj, "peruser.dev/user:")
					assert.Equal(t, p.Site, siteWide, "%s in part %s", key, p)
				}
			}
			require.Equal(t, len(want), len(got))
			for key, obj := range want {
				assert.Equal(t, obj, got[key], key)
			}
			assert.NotEmpty(t, got)
		})
	}
}

// TestPartStillChecksTheWholeSite: a problem with one user (here a name that would
// escape the NFS path template, found while generating) fails every part's render, the
// parts that do not hold that user included: a shard is never valid while the site is
// not.
func TestPartStillChecksTheWholeSite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "registry.json"), []byte(sitegen.DockerConfig), 0o600))
	env := env.Env{Dir: dir, Getenv: func(string) string { return "" }, Stderr: os.Stderr}
	site := string(shardedSite(t, 8, 4)) + "    - {name: \"..\", uid: 29998, gid: 29998}\n"
	doc, err := spec.ParseDocument([]byte(site), "site.yaml")
	require.NoError(t, err)
	for _, p := range shard.All(4) {
		var b bytes.Buffer
		err := render.PartTo(ctx, doc.Site, p, env, &b)
		assert.ErrorContains(t, err, "spec.storage.nfs.path", "part %s rendered although the site is invalid", p)
		assert.Empty(t, b.String())
	}
	_, err = render.Split(ctx, doc.Site, env)
	assert.Error(t, err)
}

func TestPartOutsideTheSite(t *testing.T) {
	ctx := context.Background()
	env := env.Env{Dir: t.TempDir(), Getenv: func(string) string { return "" }, Stderr: os.Stderr}
	doc, err := spec.ParseDocument([]byte(strings.Replace(string(shardedSite(t, 4, 2)), "  registry: {dockerConfigJSONFile: registry.json}\n", "", 1)), "site.yaml")
	require.NoError(t, err)
	var b bytes.Buffer
	assert.ErrorContains(t, render.PartTo(ctx, doc.Site, shard.User(2), env, &b), "shard 2 is outside 0…1")
	assert.Empty(t, b.String())
}
