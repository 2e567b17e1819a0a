package postrender

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	specfile "github.com/peruser-dev/peruser/spec"

	"github.com/peruser-dev/peruser/api/v1alpha1"
)

var (
	errHelp    = errors.New("help requested")
	errVersion = errors.New("version requested")
)

// config is the command line: a Hardening spec built from --config (if any) with the
// flags laid over it.
type config struct {
	spec v1alpha1.HardeningSpec
	// file is the --config file; relative site paths are read from its directory.
	file string
	// lines is file's line index; given names the flags on the command line ("--uid"),
	// whose values are not at any line of the file.
	lines   func(string) int
	given   map[string]bool
	verbose bool
}

const usage = `Usage: post-renderer [flags] [-] < manifests.yaml > hardened.yaml
       post-renderer krm            (KRM transformer; also when run without arguments)
       post-renderer version        (also --version)

The manifests are always read from stdin ("-" may name it explicitly).

Hardens every pod template in a YAML stream to run as one user and pass the Pod
Security Standards "restricted" level. See docs/post-renderer.md.

Identity (one of):
  --uid N --gid N [--supplemental-groups G,...]
  --site SITE.yaml --user NAME | --namespace NS
  --config HARDENING.yaml      a peruser.dev/v1alpha1 Hardening; flags override it

Flags:
`

// parseFlags parses the command line; a relative --config path is read from dir.
// -h/--help prints the usage to help (stdout: it was asked for) and returns errHelp.
// Errors are returned as one line each, with the flag spelt "--name", and nothing more
// is printed.
func parseFlags(args []string, dir string, help io.Writer) (*config, error) {
	c := &config{}
	var (
		spec                                  v1alpha1.HardeningSpec
		uid, gid                              int64
		groups                                int64List
		labels                                keyValues
		pullSecrets, hostPaths, volumeTypes   stringList
		dropInits                             stringList
		allowDowngrade                        bool
		rewrites                              keyValues
		templatePaths                         keyValues
		verify                                = true
		site, user, namespace, lifetime, file string
	)
	fs := flag.NewFlagSet("post-renderer", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.Int64Var(&uid, "uid", 0, "user ID every pod runs as (never 0)")
	fs.Int64Var(&gid, "gid", 0, "group ID every pod runs as, also fsGroup (never 0)")
	fs.Var(&groups, "supplemental-groups", "comma-separated supplemental GIDs (≥ 1000); repeatable")
	fs.StringVar(&site, "site", "", "Site spec file to read the user from")
	fs.StringVar(&user, "user", "", "username in the site (with --site)")
	fs.StringVar(&namespace, "namespace", "", "user namespace in the site (with --site)")
	fs.StringVar(&file, "config", "", "Hardening file (peruser.dev/v1alpha1); flags override its fields")
	fs.StringVar(&lifetime, "lifetime", "", "pod.kubernetes.io/lifetime annotation for job-pod-reaper, e.g. 8h")
	fs.Var(&labels, "label", "key=value label for pod templates and their objects; repeatable")
	fs.Var(&pullSecrets, "image-pull-secret", "Secret name added to imagePullSecrets; repeatable")
	fs.Var(&rewrites, "registry-rewrite", "from=to image registry rewrite, e.g. docker.io=registry.example.edu/hub; repeatable")
	fs.Var(&templatePaths, "pod-template-path", "Kind[.group]=path of pod templates in a custom resource, e.g. TFJob.kubeflow.org=spec.tfReplicaSpecs.*.template; repeatable")
	fs.Var(&hostPaths, "allow-host-path", "allow hostPath volumes under this directory, e.g. /users/; repeatable")
	fs.Var(&volumeTypes, "allow-volume-type", "allow this volume type although restricted forbids it, e.g. nfs; repeatable")
	fs.Var(&dropInits, "drop-init-container", "remove the init container of this name from every pod, e.g. volume-permissions; repeatable")
	fs.BoolVar(&allowDowngrade, "allow-downgrade", false, "rewrite containers asking for privileged, root or added capabilities instead of refusing them")
	fs.BoolVar(&verify, "verify", true, "check hardened pods with Pod Security Admission (restricted, latest)")
	fs.BoolVar(&c.verbose, "v", false, "report counts on stderr")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(help, usage)
			printFlags(help, fs)
			return nil, errHelp
		}
		return nil, errors.New(dashDash(err.Error()))
	}
	if *showVersion {
		return nil, errVersion
	}
	if rest := fs.Args(); len(rest) > 1 || len(rest) == 1 && rest[0] != "-" {
		return nil, fmt.Errorf("unexpected argument %q (the manifests are read from stdin)", fs.Arg(0))
	}
	// stdin carries the manifests, so it cannot also be the Hardening or the Site.
	for name, v := range map[string]string{"--config": file, "--site": site} {
		if v == "-" {
			return nil, fmt.Errorf("%s -: stdin carries the manifests; give %s a file", name, name)
		}
	}
	if file != "" {
		file = inDir(dir, file)
		h, lines, err := specfile.LoadHardeningDocument(file)
		if err != nil {
			return nil, err
		}
		spec, c.file, c.lines = h.Spec, file, lines
	}
	set := map[string]bool{} // the flags given, spelt as flagOf spells them ("--uid")
	fs.Visit(func(f *flag.Flag) { set["--"+f.Name] = true })
	c.given = set
	id := &spec.Identity
	if identityGiven(set) {
		// Identity flags replace an identity from the file altogether; given together,
		// the two kinds are reported as a conflict by Validate.
		*id = v1alpha1.HardeningIdentity{SupplementalGroups: groups, Site: site, User: user, Namespace: namespace}
		if set["--uid"] {
			id.UID = &uid
		}
		if set["--gid"] {
			id.GID = &gid
		}
	}
	if set["--lifetime"] {
		spec.Lifetime = lifetime
	}
	if set["--label"] {
		if spec.Labels == nil {
			spec.Labels = map[string]string{}
		}
		for _, kv := range labels {
			spec.Labels[kv.key] = kv.value
		}
	}
	spec.ImagePullSecrets = append(spec.ImagePullSecrets, pullSecrets...)
	for _, kv := range rewrites {
		spec.RegistryRewrites = append(spec.RegistryRewrites, v1alpha1.RegistryRewrite{From: kv.key, To: kv.value})
	}
	for _, kv := range templatePaths {
		kind, group, _ := strings.Cut(kv.key, ".")
		spec.PodTemplatePaths = append(spec.PodTemplatePaths, v1alpha1.PodTemplatePath{Kind: kind, Group: group, Path: kv.value})
	}
	spec.Exceptions.HostPathPrefixes = append(spec.Exceptions.HostPathPrefixes, hostPaths...)
	spec.Exceptions.VolumeTypes = append(spec.Exceptions.VolumeTypes, volumeTypes...)
	spec.DropInitContainers = append(spec.DropInitContainers, dropInits...)
	if set["--allow-downgrade"] {
		spec.AllowDowngrade = allowDowngrade
	}
	if set["--verify"] {
		spec.Verify = &verify
	}
	c.spec = spec
	return c, nil
}

// printFlags prints fs's flags the way the docs write them, with "--" (flag's own
// PrintDefaults uses a single dash), one flag and its help per two lines.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		arg, help := flag.UnquoteUsage(f)
		switch f.Value.(type) {
		case *int64List:
			arg = "N,..."
		case *stringList:
			arg = "STRING"
		case *keyValues:
			arg = "KEY=VALUE"
		}
		line := "  --" + f.Name
		if arg != "" {
			line += " " + arg
		}
		if d := f.DefValue; d != "" && d != "0" && d != "false" && d != "[]" {
			help += fmt.Sprintf(" (default %s)", d)
		}
		fmt.Fprintf(w, "%s\n    \t%s\n", line, help)
	})
}

// dashDash spells flag names in package flag's errors ("flag -uid", "not defined: -x")
// as the usage and the docs do, with "--".
func dashDash(msg string) string {
	for _, prefix := range []string{"for flag -", "not defined: -", "needs an argument: -"} {
		if i := strings.Index(msg, prefix); i >= 0 {
			at := i + len(prefix)
			if !strings.HasPrefix(msg[at:], "-") {
				msg = msg[:at] + "-" + msg[at:]
			}
		}
	}
	return msg
}

// int64List is a repeatable comma-separated list of integers.
type int64List []int64

func (l *int64List) String() string { return fmt.Sprint([]int64(*l)) }

func (l *int64List) Set(s string) error {
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		v, err := strconv.ParseInt(part, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", part)
		}
		*l = append(*l, v)
	}
	return nil
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error {
	if s == "" {
		return errors.New("must not be empty")
	}
	*l = append(*l, s)
	return nil
}

type keyValue struct{ key, value string }

// keyValues is a repeatable key=value flag.
type keyValues []keyValue

func (l *keyValues) String() string {
	parts := make([]string, len(*l))
	for i, kv := range *l {
		parts[i] = kv.key + "=" + kv.value
	}
	return strings.Join(parts, ",")
}

func (l *keyValues) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not key=value", s)
	}
	*l = append(*l, keyValue{k, v})
	return nil
}
