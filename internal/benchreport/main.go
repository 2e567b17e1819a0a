// Command benchreport is `make bench`: it runs the project's Go benchmarks next to
// their baselines in the same run and prints each ratio against its target (README,
// Performance), then measures what a Go benchmark cannot: krm-fn's peak RSS on 10,000 users and
// `kustomize build` with the function against the same output as plain files.
// Machines are noisy, so only ratios measured in one run are compared.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
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
	users := flag.Int("users", 10000, "users in the krm-fn binary's time and memory measurement")
	kustomizeUsers := flag.Int("kustomize-users", 200, "users in the kustomize comparison (kustomize's own cost grows faster than linearly)")
	shardsOnly := flag.Bool("shards-only", false, "measure only the sharded path (make bench-shards)")
	flag.Parse()
	if *shardsOnly {
		if err := measureShardsOnly(*users); err != nil {
			fmt.Printf("sharded path FAILED: %v\n", err)
			os.Exit(1)
		}
		return
	}
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
	if err := measureBinary(*users, *kustomizeUsers); err != nil {
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

// measureBinary runs the built krm-fn on generated sites: its wall time and peak RSS on
// users users (target < 1 GiB), and `kustomize build` with the function against
// `kustomize build` of its output as plain files on kustomizeUsers users. kustomize's own
// resource handling grows faster than linearly, so that comparison uses a smaller site;
// the function's own share of the build is printed beside it.
func measureBinary(users, kustomizeUsers int) error {
	krmfn, kustomize := binaries()
	dir, err := os.MkdirTemp("", "peruser-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	big, err := siteTree(filepath.Join(dir, "big"), krmfn, users)
	if err != nil {
		return err
	}
	elapsed, rss, err := run(big.gen, nil, io.Discard, krmfn, "render", "site.yaml")
	if err != nil {
		return fmt.Errorf("krm-fn render: %w", err)
	}
	verdict := "ok"
	if rss >= 1<<30 {
		verdict = "OVER TARGET"
	}
	fmt.Printf("%-40s %.2fs, peak RSS %d MiB (target < 1024 MiB) %s\n",
		fmt.Sprintf("krm-fn render, %d users (binary)", users), elapsed.Seconds(), rss>>20, verdict)
	failed := verdict != "ok"

	small, err := siteTree(filepath.Join(dir, "small"), krmfn, kustomizeUsers)
	if err != nil {
		return err
	}
	best := func(d string) (time.Duration, error) {
		var min time.Duration
		for i := 0; i < 3; i++ {
			e, _, err := run(d, nil, io.Discard, kustomize, "build", "--enable-alpha-plugins", "--enable-exec", ".")
			if err != nil {
				return 0, fmt.Errorf("kustomize build %s: %w", d, err)
			}
			if min == 0 || e < min {
				min = e
			}
		}
		return min, nil
	}
	withFn, err := best(small.gen)
	if err != nil {
		return err
	}
	asFiles, err := best(small.plain)
	if err != nil {
		return err
	}
	// The function alone, as kustomize runs it: a ResourceList with the config on stdin.
	fnOnly, _, err := run(small.gen, bytes.NewReader(small.resourceList), io.Discard, krmfn)
	if err != nil {
		return fmt.Errorf("krm-fn as a function: %w", err)
	}
	ratio := withFn.Seconds() / asFiles.Seconds()
	verdict = "ok"
	if ratio > 1.3 {
		verdict = "over the target: kustomize's handling of generator output, not the function"
	}
	fmt.Printf("%-40s with krm-fn %.2fs  plain files %.2fs  ratio %.2f (target ≤ 1.3; krm-fn itself %.2fs = %.0f%% of the build) %s\n",
		fmt.Sprintf("kustomize build, %d users", kustomizeUsers), withFn.Seconds(), asFiles.Seconds(), ratio,
		fnOnly.Seconds(), 100*fnOnly.Seconds()/withFn.Seconds(), verdict)
	if err := measureShards(dir, krmfn, kustomize, users); err != nil {
		return err
	}
	if failed {
		return fmt.Errorf("krm-fn peak RSS over target")
	}
	return nil
}

// binaries are the built krm-fn and kustomize (make build, make tools).
func binaries() (krmfn, kustomize string) {
	root, _ := os.Getwd()
	kustomize = os.Getenv("KUSTOMIZE")
	if kustomize == "" {
		kustomize = filepath.Join(root, "bin", "kustomize")
	}
	return filepath.Join(root, "bin", "krm-fn"), kustomize
}

func measureShardsOnly(users int) error {
	krmfn, kustomize := binaries()
	dir, err := os.MkdirTemp("", "peruser-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	return measureShards(dir, krmfn, kustomize, users)
}

// tree is a generated site laid out twice: gen/ runs krm-fn as a kustomize generator,
// plain/ holds its rendered output as a plain resource.
type tree struct {
	gen, plain   string
	resourceList []byte
}

func siteTree(dir, krmfn string, users int) (tree, error) {
	t := tree{gen: filepath.Join(dir, "gen"), plain: filepath.Join(dir, "plain")}
	for _, d := range []string{filepath.Join(t.gen, "bin"), t.plain} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return t, err
		}
	}
	site := sitegen.OOD(users, "registry.json")
	site = bytes.Replace(site, []byte("  name: bench\n"), []byte("  name: bench\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: ./bin/krm-fn\n"), 1)
	files := map[string]string{
		filepath.Join(t.gen, "site.yaml"):            string(site),
		filepath.Join(t.gen, "registry.json"):        sitegen.DockerConfig,
		filepath.Join(t.gen, "kustomization.yaml"):   "generators:\n- site.yaml\n",
		filepath.Join(t.plain, "kustomization.yaml"): "resources:\n- objects.yaml\n",
	}
	for p, c := range files {
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			return t, err
		}
	}
	if err := os.Link(krmfn, filepath.Join(t.gen, "bin", "krm-fn")); err != nil {
		return t, fmt.Errorf("bin/krm-fn (run make build): %w", err)
	}
	out, err := os.Create(filepath.Join(t.plain, "objects.yaml"))
	if err != nil {
		return t, err
	}
	defer out.Close()
	if _, _, err := run(t.gen, nil, out, krmfn, "render", "site.yaml"); err != nil {
		return t, fmt.Errorf("krm-fn render: %w", err)
	}
	var rl strings.Builder
	rl.WriteString("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n")
	for _, line := range strings.Split(strings.TrimRight(string(site), "\n"), "\n") {
		rl.WriteString("  " + line + "\n")
	}
	t.resourceList = []byte(rl.String())
	return t, nil
}

// run runs a command in dir and returns its wall time and peak RSS in bytes.
func run(dir string, stdin io.Reader, stdout io.Writer, name string, args ...string) (time.Duration, int64, error) {
	m, err := measure(dir, stdin, stdout, name, args...)
	return m.wall, m.rss, err
}

// measured is one command's wall time, CPU time (user + system, its children
// included) and peak RSS. On a shared machine CPU time is the steadier figure.
type measured struct {
	wall, cpu time.Duration
	rss       int64
}

func measure(dir string, stdin io.Reader, stdout io.Writer, name string, args ...string) (measured, error) {
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Dir, cmd.Stdin, cmd.Stdout, cmd.Stderr = dir, stdin, stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return measured{}, fmt.Errorf("%v: %s", err, stderr.String())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return measured{
		wall: time.Since(start),
		cpu:  cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(),
		rss:  ru.Maxrss * 1024,
	}, nil
}
