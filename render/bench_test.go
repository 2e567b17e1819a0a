package render_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/internal/env"
	// Defines -update, so that `go test ./... -update` runs in every package.
	_ "github.com/peruser-dev/peruser/internal/golden"
	"github.com/peruser-dev/peruser/internal/sitegen"
	"github.com/peruser-dev/peruser/render"
	"github.com/peruser-dev/peruser/spec"
)

const benchUsers = 10000

func benchEnv(b *testing.B) (env.Env, []byte) {
	b.Helper()
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "registry.json"), []byte(sitegen.DockerConfig), 0o600); err != nil {
		b.Fatal(err)
	}
	return env.Env{Dir: dir, Getenv: func(string) string { return "" }, Stderr: io.Discard},
		sitegen.OOD(benchUsers, "registry.json")
}

// BenchmarkRender10kUsers is `krm-fn render` on 10,000 users: parse and check the spec,
// resolve and name the users, generate and serialize every object, one user at a time.
func BenchmarkRender10kUsers(b *testing.B) {
	env, site := benchEnv(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		doc, err := spec.ParseDocument(site, "bench.yaml")
		if err != nil {
			b.Fatal(err)
		}
		if err := render.SiteTo(context.Background(), doc.Site, env, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// renderSite parses, checks, resolves and generates, failing b on any error.
func renderSite(b testing.TB, site []byte, env env.Env) []*yaml.RNode {
	doc, err := spec.ParseDocument(site, "bench.yaml")
	if err != nil {
		b.Fatal(err)
	}
	objs, err := render.Site(context.Background(), doc.Site, env)
	if err != nil {
		b.Fatal(err)
	}
	return objs
}

// BenchmarkKyamlSerialize10kUsers is the baseline: kyaml serializing the very objects
// BenchmarkRender10kUsers produces, with nothing else.
func BenchmarkKyamlSerialize10kUsers(b *testing.B) {
	env, site := benchEnv(b)
	objs := renderSite(b, site, env)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := (kio.ByteWriter{Writer: io.Discard}).Write(objs); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(len(objs)), "objects")
}
