package slapdtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/peruser-dev/peruser/internal/testenv"
)

// Defaults of every server: the suffix the fixtures under fixtures/ldap use, and its
// root account (which bypasses slapd's size and time limits).
const (
	DefaultSuffix = "dc=example,dc=org"
	RootPassword  = "root-secret"
)

// Options configure one server.
type Options struct {
	// Suffix is the database suffix. Default DefaultSuffix.
	Suffix string
	// LDIFFiles are loaded with slapadd before slapd starts, in order.
	LDIFFiles []string
	// LDIF is loaded after LDIFFiles.
	LDIF []byte
	// Global are extra slapd.conf lines before the database section, e.g. "sizelimit 2".
	Global []string
	// Database are extra lines at the end of the database section, e.g. an overlay.
	Database []string
}

// Server is a running slapd.
type Server struct {
	// URL is the plain listener (StartTLS works on it); LDAPSURL the TLS listener.
	URL, LDAPSURL string
	// CAFile is the PEM certificate of the CA that signed the server's certificate.
	CAFile string
	// Suffix is the database suffix; RootDN binds with RootPassword.
	Suffix, RootDN string
	// Dir holds the configuration, certificates, database and log.
	Dir string

	cmd    *exec.Cmd
	exited chan struct{}
}

// Binaries returns the paths of slapd and slapadd, or reports them missing (a skip,
// or a failure under PERUSER_REQUIRE_TOOLS=1). Debian installs them in /usr/sbin,
// which is not on every PATH.
func Binaries(t testing.TB) (slapd, slapadd string) {
	t.Helper()
	slapd, slapadd = testenv.Find("SLAPD", "slapd", "/usr/sbin"), testenv.Find("SLAPADD", "slapadd", "/usr/sbin")
	if slapd == "" || slapadd == "" {
		testenv.Missing(t, "slapd/slapadd not found: install the Debian packages slapd and ldap-utils (or set SLAPD and SLAPADD)")
	}
	return slapd, slapadd
}

// SilentServer listens on 127.0.0.1, accepts connections and never answers: a hung
// directory, for timeout tests. It returns the ldap:// URL; it stops with t.
func SilentServer(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // held open, silent, until the listener closes
		}
	}()
	return "ldap://" + l.Addr().String()
}

// Start writes a configuration, loads the LDIF and starts slapd. The server is
// stopped when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	slapd, slapadd := Binaries(t)
	if opts.Suffix == "" {
		opts.Suffix = DefaultSuffix
	}
	dir := t.TempDir()
	ca, err := NewCA("peruser test CA")
	if err != nil {
		t.Fatalf("slapdtest: %v", err)
	}
	certPEM, keyPEM, err := ca.ServerCert("localhost", "127.0.0.1")
	if err != nil {
		t.Fatalf("slapdtest: %v", err)
	}
	s := &Server{
		CAFile: filepath.Join(dir, "ca.pem"),
		Suffix: opts.Suffix,
		RootDN: "cn=admin," + opts.Suffix,
		Dir:    dir,
	}
	mustWrite(t, s.CAFile, ca.CertPEM)
	mustWrite(t, filepath.Join(dir, "server.pem"), certPEM)
	mustWrite(t, filepath.Join(dir, "server.key"), keyPEM)
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "slapd.conf")
	mustWrite(t, conf, []byte(s.config(opts)))

	var seed bytes.Buffer
	for _, f := range opts.LDIFFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("slapdtest: %v", err)
		}
		seed.Write(b)
		seed.WriteString("\n\n")
	}
	seed.Write(opts.LDIF)
	seedFile := filepath.Join(dir, "seed.ldif")
	mustWrite(t, seedFile, seed.Bytes())
	if out, err := exec.Command(slapadd, "-q", "-f", conf, "-l", seedFile).CombinedOutput(); err != nil {
		t.Fatalf("slapdtest: slapadd: %v\n%s", err, out)
	}

	// A free port can be taken between choosing it and slapd binding it: retry.
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		if lastErr = s.start(slapd, conf); lastErr == nil {
			t.Cleanup(s.Stop)
			return s
		}
	}
	t.Fatalf("slapdtest: starting slapd: %v", lastErr)
	return nil
}

func (s *Server) config(opts Options) string {
	var b strings.Builder
	for _, sch := range []string{"core", "cosine", "nis", "inetorgperson"} {
		fmt.Fprintf(&b, "include /etc/ldap/schema/%s.schema\n", sch)
	}
	fmt.Fprintf(&b, "pidfile %s\nargsfile %s\n", filepath.Join(s.Dir, "slapd.pid"), filepath.Join(s.Dir, "slapd.args"))
	b.WriteString("modulepath /usr/lib/ldap\nmoduleload back_mdb\n")
	// memberof defines the memberOf attribute, so fixtures can store it directly
	// (slapadd bypasses overlays, so the overlay would not compute it); retcode lets
	// tests provoke result codes such as timeLimitExceeded.
	b.WriteString("moduleload memberof\nmoduleload retcode\n")
	fmt.Fprintf(&b, "TLSCACertificateFile %s\nTLSCertificateFile %s\nTLSCertificateKeyFile %s\n",
		s.CAFile, filepath.Join(s.Dir, "server.pem"), filepath.Join(s.Dir, "server.key"))
	for _, l := range opts.Global {
		b.WriteString(l + "\n")
	}
	b.WriteString("database mdb\nmaxsize 1073741824\n")
	fmt.Fprintf(&b, "suffix %q\nrootdn %q\nrootpw %s\ndirectory %s\n", s.Suffix, s.RootDN, RootPassword, filepath.Join(s.Dir, "db"))
	b.WriteString("index objectClass eq\nindex uid,memberUid,cn eq\n")
	for _, l := range opts.Database {
		b.WriteString(l + "\n")
	}
	return b.String()
}

func (s *Server) start(slapd, conf string) error {
	port, tlsPort, err := freePorts()
	if err != nil {
		return err
	}
	s.URL = "ldap://127.0.0.1:" + strconv.Itoa(port)
	s.LDAPSURL = "ldaps://127.0.0.1:" + strconv.Itoa(tlsPort)
	logFile, err := os.Create(filepath.Join(s.Dir, "slapd.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	// -d 0 keeps slapd in the foreground, so that it is our child and we hold its PID.
	cmd := exec.Command(slapd, "-d", "0", "-f", conf, "-h", s.URL+"/ "+s.LDAPSURL+"/")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", slapd, err)
	}
	s.cmd = cmd
	s.exited = make(chan struct{})
	go func() { _ = cmd.Wait(); close(s.exited) }()

	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			log, _ := os.ReadFile(filepath.Join(s.Dir, "slapd.log"))
			return fmt.Errorf("slapd exited: %s", bytes.TrimSpace(log))
		default:
		}
		if ready(port) && ready(tlsPort) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Stop()
	return errors.New("slapd did not listen within 15s")
}

func ready(port int) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// freePorts asks the kernel for two unused 127.0.0.1 ports.
func freePorts() (int, int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range 2 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, 0, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports[0], ports[1], nil
}

// Stop terminates slapd by its PID and waits for it; it is safe to call twice.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// Fixture is the path of a file under the repository's fixtures/ldap.
func Fixture(name string) string {
	return filepath.Join(testenv.RepoRoot(), "fixtures", "ldap", name)
}

func mustWrite(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatalf("slapdtest: %v", err)
	}
}
