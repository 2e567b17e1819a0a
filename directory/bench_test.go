package directory_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/directory"
	"github.com/peruser-dev/peruser/internal/env"
	"github.com/peruser-dev/peruser/internal/slapdtest"
)

// BenchmarkDirectory10k resolves 10,000 users and 2,000 groups from a local slapd
// (the target: under 2 s). It reports the LDAP round trips and pages of one lookup,
// which must grow with pages, not with users: with pageSize 1000 that is 10 pages of
// users, 2 of groups, the last page of each search possibly empty, and one bind.
// PERUSER_BENCH_SCHEME picks the member scheme (memberUid by default, or memberOf),
// PERUSER_BENCH_PAGESIZE the page size.
func BenchmarkDirectory10k(b *testing.B) {
	const users, groups = 10000, 2000
	slapdtest.Binaries(b)
	s := slapdtest.Start(b, slapdtest.Options{LDIF: slapdtest.GenerateLDIF(slapdtest.DefaultSuffix, users, groups)})
	scheme := os.Getenv("PERUSER_BENCH_SCHEME")
	if scheme == "" {
		scheme = v1alpha1.MemberUID
	}
	pageSize := 1000
	if v, err := strconv.Atoi(os.Getenv("PERUSER_BENCH_PAGESIZE")); err == nil && v > 0 {
		pageSize = v
	}
	d := &v1alpha1.Directory{
		URL:             s.URL,
		BindDN:          s.RootDN, // slapd's default size limit (500) binds everyone else
		BindPasswordEnv: "PW",
		Users:           v1alpha1.UserSearch{DirectorySearch: v1alpha1.DirectorySearch{BaseDN: "ou=People," + s.Suffix}},
		Groups:          v1alpha1.DirectorySearch{BaseDN: "ou=Groups," + s.Suffix},
		MemberScheme:    scheme,
		PageSize:        pageSize,
	}
	d.Default()
	if errs := d.Validate("spec.directory"); len(errs) > 0 {
		b.Fatal(errs)
	}
	env := env.Env{Getenv: func(string) string { return slapdtest.RootPassword }}
	var stats directory.Stats
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		snap, st, err := directory.Fetch(context.Background(), "bench", d, env)
		if err != nil {
			b.Fatal(err)
		}
		if len(snap.Users) != users {
			b.Fatalf("%d users, want %d", len(snap.Users), users)
		}
		stats = st
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(stats.RoundTrips), "roundtrips/op")
	b.ReportMetric(float64(stats.Pages), "pages/op")
	b.ReportMetric(float64(stats.Entries), "entries/op")
	perOp := elapsed / time.Duration(b.N)
	b.Logf("%s, pageSize %d: %s per lookup of %d users and %d groups; %d round trips (%d pages)",
		scheme, pageSize, perOp.Round(time.Millisecond), users, groups, stats.RoundTrips, stats.Pages)
	if perOp > 2*time.Second {
		b.Errorf("%s per lookup, above the 2 s target", perOp)
	}
}
