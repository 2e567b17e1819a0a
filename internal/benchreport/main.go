// Command benchreport is `make bench`: it runs the project's Go benchmarks next to
// their baselines in the same run and prints each ratio against its target (DESIGN.md
// §7), then measures what a Go benchmark cannot: krm-fn's peak RSS on 10,000 users and
// `kustomize build` with the function against the same output as plain files.
// Machines are noisy, so only ratios measured in one run are compared.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/peruser-dev/peruser/internal/sitegen"
)

// pair is a benchmark and the baseline it is measured against.
type pair struct {
	what, pkg, bench, baseline string
	target                     float64
}

var pairs = []pair{
	{"krm-fn render, 10,000 users", "./render", "BenchmarkRender10kUsers", "BenchmarkKyamlSerialize10kUsers", 2.0},
	{"post-renderer, 10,000 documents", "./harden", "BenchmarkPostRender10kDocs", "BenchmarkKyamlPassthrough10kDocs", 1.5},
}

// singles are benchmarks with an absolute target, reported with their custom metrics.
var singles = []struct{ what, pkg, bench string }{
	{"LDAP, 10,000 users and 2,000 groups from local slapd", "./directory", "BenchmarkDirectory10k"},
}

func main() {
	count := flag.Int("count", 3, "runs of each benchmark; the median is used")
	users := flag.Int("users", 10000, "users in the RSS and kustomize measurements")
	flag.Parse()
	failed := false
	fmt.Println("peruser benchmarks (ratios against a baseline measured in the same run)")
	fmt.Println()
	for _, p := range pairs {
		if !exists(p.pkg) {
			fmt.Printf("%-40s skipped: %s not present\n", p.what, p.pkg)
			continue
		}
		res, err := runBench(p.pkg, "^("+p.bench+"|"+p.baseline+")$", *count)
		if err != nil {
			fmt.Printf("%-40s FAILED: %v\n", p.what, err)
			failed = true
			continue
		}
		b, base := median(res[p.bench]["ns/op"]), median(res[p.baseline]["ns/op"])
		ratio := b / base
		verdict := "ok"
		if ratio > p.target {
			verdict = "OVER TARGET"
			failed = true
		}
		fmt.Printf("%-40s %s %.2fs  baseline %s %.2fs  ratio %.2f (target ≤ %.1f) %s\n",
			p.what, p.bench, b/1e9, p.baseline, base/1e9, ratio, p.target, verdict)
	}
	for _, s := range singles {
		if !exists(s.pkg) {
			fmt.Printf("%-40s skipped: %s not present\n", s.what, s.pkg)
			continue
		}
		res, err := runBench(s.pkg, "^"+s.bench+"$", *count)
		if err != nil {
			fmt.Printf("%-40s FAILED: %v\n", s.what, err)
			failed = true
			continue
		}
		var parts []string
		for _, unit := range sortedKeys(res[s.bench]) {
			v := median(res[s.bench][unit])
			if unit == "ns/op" {
				parts = append(parts, fmt.Sprintf("%.3fs/op", v/1e9))
				continue
			}
			parts = append(parts, fmt.Sprintf("%g %s", v, unit))
		}
		fmt.Printf("%-40s %s: %s\n", s.what, s.bench, strings.Join(parts, ", "))
	}
	if err := measureBinary(*users); err != nil {
		fmt.Printf("krm-fn binary measurements FAILED: %v\n", err)
		failed = true
	}
	if failed {
		os.Exit(1)
	}
}

func exists(pkg string) bool {
	_, err := os.Stat(pkg)
	return err == nil
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// runBench runs go test -bench and returns benchmark → unit → values.
func runBench(pkg, pattern string, count int) (map[string]map[string][]float64, error) {
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", pattern, "-benchmem", "-count", strconv.Itoa(count), pkg)
	cmd.Env = os.Environ()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%v\n%s", err, out.String())
	}
	res := map[string]map[string][]float64{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		if res[m[1]] == nil {
			res[m[1]] = map[string][]float64{}
		}
		fields := strings.Fields(m[2])
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err == nil {
				res[m[1]][fields[i+1]] = append(res[m[1]][fields[i+1]], v)
			}
		}
	}
	if len(res) == 0 {
		return nil, fmt.Errorf("no benchmark results in output:\n%s", out.String())
	}
	return res, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func sortedKeys(m map[string][]float64) []string { return slices.Sorted(maps.Keys(m)) }

// measureBinary runs the built krm-fn on a generated site: its peak RSS, and
// kustomize build with the function against kustomize build of its output as files.
func measureBinary(users int) error {
	root, _ := os.Getwd()
	krmfn := filepath.Join(root, "bin", "krm-fn")
	kustomize := os.Getenv("KUSTOMIZE")
	if kustomize == "" {
		kustomize = filepath.Join(root, "bin", "kustomize")
	}
	dir, err := os.MkdirTemp("", "peruser-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	gen := filepath.Join(dir, "gen")
	plain := filepath.Join(dir, "plain")
	for _, d := range []string{filepath.Join(gen, "bin"), plain} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	site := sitegen.OOD(users, "registry.json")
	site = bytes.Replace(site, []byte("  name: bench\n"), []byte("  name: bench\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: ./bin/krm-fn\n"), 1)
	files := map[string]string{
		filepath.Join(gen, "site.yaml"):            string(site),
		filepath.Join(gen, "registry.json"):        sitegen.DockerConfig,
		filepath.Join(gen, "kustomization.yaml"):   "generators:\n- site.yaml\n",
		filepath.Join(plain, "kustomization.yaml"): "resources:\n- objects.yaml\n",
	}
	for p, c := range files {
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			return err
		}
	}
	if err := os.Link(krmfn, filepath.Join(gen, "bin", "krm-fn")); err != nil {
		return fmt.Errorf("bin/krm-fn (run make build): %w", err)
	}

	// Peak RSS of a standalone render.
	out, err := os.Create(filepath.Join(plain, "objects.yaml"))
	if err != nil {
		return err
	}
	cmd := exec.Command(krmfn, "render", "site.yaml")
	cmd.Dir, cmd.Stdout, cmd.Stderr = gen, out, os.Stderr
	start := time.Now()
	err = cmd.Run()
	elapsed := time.Since(start)
	out.Close()
	if err != nil {
		return fmt.Errorf("krm-fn render: %w", err)
	}
	rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024
	verdict := "ok"
	if rss >= 1<<30 {
		verdict = "OVER TARGET"
	}
	fmt.Printf("%-40s %.2fs, peak RSS %d MiB (target < 1024 MiB) %s\n",
		fmt.Sprintf("krm-fn render, %d users (binary)", users), elapsed.Seconds(), rss>>20, verdict)

	timeBuild := func(d string) (time.Duration, error) {
		var best time.Duration
		for i := 0; i < 3; i++ {
			c := exec.Command(kustomize, "build", "--enable-alpha-plugins", "--enable-exec", d)
			c.Stdout = nil
			var stderr bytes.Buffer
			c.Stderr = &stderr
			s := time.Now()
			if err := c.Run(); err != nil {
				return 0, fmt.Errorf("kustomize build %s: %v: %s", d, err, stderr.String())
			}
			if e := time.Since(s); best == 0 || e < best {
				best = e
			}
		}
		return best, nil
	}
	withFn, err := timeBuild(gen)
	if err != nil {
		return err
	}
	asFiles, err := timeBuild(plain)
	if err != nil {
		return err
	}
	ratio := withFn.Seconds() / asFiles.Seconds()
	verdict = "ok"
	if ratio > 1.3 {
		verdict = "OVER TARGET"
	}
	fmt.Printf("%-40s with krm-fn %.2fs  plain files %.2fs  ratio %.2f (target ≤ 1.3) %s\n",
		fmt.Sprintf("kustomize build, %d users", users), withFn.Seconds(), asFiles.Seconds(), ratio, verdict)
	if verdict != "ok" {
		return fmt.Errorf("kustomize ratio %.2f over target", ratio)
	}
	return nil
}
