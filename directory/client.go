package directory

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/internal/env"
)

// Stats counts what a live lookup cost. RoundTrips grow with pages, not with users.
type Stats struct {
	// RoundTrips are requests that waited for an answer: StartTLS, bind, each page.
	RoundTrips int
	// Pages are the search pages among them.
	Pages int
	// Entries are the entries received.
	Entries int
}

var specPath = field.Path("spec").Child("directory")

// conn is a bound connection with the directory's limits applied.
type conn struct {
	l       *ldap.Conn
	d       *v1alpha1.Directory
	stats   *Stats
	timeout time.Duration
	stop    func() bool
}

// connect dials, upgrades to TLS when asked, and binds. Every step is bounded:
// dialing and the TLS handshake by connectTimeout, each request by timeout, and the
// whole connection by ctx.
func connect(ctx context.Context, d *v1alpha1.Directory, env env.Env, stats *Stats) (*conn, error) {
	u, err := url.Parse(d.URL)
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Hostname() == "" {
		return nil, field.List{field.Errorf(specPath.Child("url").String(), "not an ldap:// or ldaps:// URL: %q", d.URL)}
	}
	password, err := bindPassword(d, env)
	if err != nil {
		return nil, err
	}
	secure := u.Scheme == "ldaps" || d.StartTLS
	var tlsConf *tls.Config
	if secure {
		if tlsConf, err = tlsConfig(d, env, u.Hostname()); err != nil {
			return nil, err
		}
	} else if d.BindDN != "" && !isLoopback(u.Hostname()) {
		env.Warnf("spec.directory: binding as %s over an unencrypted connection; use ldaps:// or startTLS: true", d.BindDN)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"ldap": "389", "ldaps": "636"}[u.Scheme]
	}
	addr := net.JoinHostPort(u.Hostname(), port)
	connectTimeout, timeout := d.ConnectTimeoutDuration(), d.TimeoutDuration()
	urlPath := specPath.Child("url").String()

	dctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	raw, err := (&net.Dialer{}).DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, field.List{field.Errorf(urlPath, "cannot connect to %s: %v%s", d.URL, netError(err), timeoutHint(err, "connectTimeout", connectTimeout))}
	}
	if u.Scheme == "ldaps" {
		tc := tls.Client(raw, tlsConf)
		if err := tc.HandshakeContext(dctx); err != nil {
			raw.Close()
			return nil, field.List{field.Errorf(tlsPath(d), "TLS handshake with %s failed: %v%s", d.URL, tlsError(err), timeoutHint(err, "connectTimeout", connectTimeout))}
		}
		raw = tc
	}
	l := ldap.NewConn(raw, u.Scheme == "ldaps")
	l.Start()
	l.SetTimeout(timeout)
	c := &conn{l: l, d: d, stats: stats, timeout: timeout}
	// Cancelling ctx closes the connection, which ends any request in flight.
	c.stop = context.AfterFunc(ctx, func() { l.Close() })

	if d.StartTLS {
		// go-ldap does not bound the StartTLS handshake itself: a deadline on the
		// socket does, lifted once TLS is up.
		_ = raw.SetDeadline(time.Now().Add(timeout))
		err := l.StartTLS(tlsConf)
		stats.RoundTrips++
		if err != nil {
			c.close()
			return nil, field.List{field.Errorf(tlsPath(d), "StartTLS with %s failed: %v", d.URL, tlsError(err))}
		}
		_ = raw.SetDeadline(time.Time{})
	}
	if d.BindDN != "" {
		err := l.Bind(d.BindDN, password)
		stats.RoundTrips++
		if err != nil {
			c.close()
			return nil, field.List{field.Errorf(specPath.Child("bindDN").String(), "bind as %s refused by %s: %s", d.BindDN, d.URL, bindError(d, err, timeout))}
		}
	}
	return c, nil
}

func (c *conn) close() {
	c.stop()
	c.l.Close()
}

// search runs one RFC 2696 paged subtree search and returns every entry, or an error:
// a search cut short by a size or time limit is an error, never a shorter list.
func (c *conn) search(ctx context.Context, path field.Path, base, filter string, attrs []string) ([]*ldap.Entry, error) {
	paging := ldap.NewControlPaging(uint32(c.d.PageSize))
	// The protocol counts whole seconds and 0 means no limit: never round down to 0.
	timeLimit := max(1, int(c.timeout/time.Second))
	req := ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, timeLimit, false,
		filter, attrs, []ldap.Control{paging})
	var out []*ldap.Entry
	for {
		if err := ctx.Err(); err != nil {
			return nil, field.List{field.Errorf(path.String(), "search under %s interrupted: %v", base, err)}
		}
		res, err := c.l.Search(req)
		c.stats.RoundTrips++
		c.stats.Pages++
		if err != nil {
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			return nil, field.List{field.Errorf(path.String(), "search under %s with %s failed: %s", base, filter, searchError(err, c.timeout))}
		}
		c.stats.Entries += len(res.Entries)
		out = append(out, res.Entries...)
		ctrl, ok := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		if !ok || len(ctrl.Cookie) == 0 {
			// No cookie: the last page (or a server without paging sent everything).
			return out, nil
		}
		paging.SetCookie(ctrl.Cookie)
	}
}

// bindPassword reads the password from the environment or a file. It is never
// logged, never written to a snapshot, and an empty one is an error rather than an
// unauthenticated bind.
func bindPassword(d *v1alpha1.Directory, env env.Env) (string, error) {
	switch {
	case d.BindDN == "":
		return "", nil
	case d.BindPasswordEnv != "":
		p := env.Var(d.BindPasswordEnv)
		if p == "" {
			return "", field.List{field.Errorf(specPath.Child("bindPasswordEnv").String(), "environment variable %s is not set or empty", d.BindPasswordEnv)}
		}
		return p, nil
	case d.BindPasswordFile != "":
		p := env.Path(d.BindPasswordFile)
		b, err := os.ReadFile(p)
		if err != nil {
			return "", field.List{field.Errorf(specPath.Child("bindPasswordFile").String(), "cannot read %s: %v", p, unwrapPathError(err))}
		}
		pw := strings.TrimRight(string(b), "\r\n")
		if pw == "" {
			return "", field.List{field.Errorf(specPath.Child("bindPasswordFile").String(), "%s is empty", p)}
		}
		return pw, nil
	}
	return "", field.List{field.Errorf(specPath.Child("bindDN").String(), "no bindPasswordEnv or bindPasswordFile")}
}

// tlsConfig verifies the server against caFile or the system roots; only
// insecureSkipVerify turns verification off, and says so on stderr.
func tlsConfig(d *v1alpha1.Directory, env env.Env, host string) (*tls.Config, error) {
	conf := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if d.CAFile != "" {
		p := env.Path(d.CAFile)
		pem, err := os.ReadFile(p)
		if err != nil {
			return nil, field.List{field.Errorf(specPath.Child("caFile").String(), "cannot read %s: %v", p, unwrapPathError(err))}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, field.List{field.Errorf(specPath.Child("caFile").String(), "%s holds no PEM certificate", p)}
		}
		conf.RootCAs = pool
	}
	if d.InsecureSkipVerify {
		env.Warnf("spec.directory.insecureSkipVerify: the certificate of %s is NOT verified; anyone on the path can impersonate the directory", d.URL)
		conf.InsecureSkipVerify = true
	}
	return conf, nil
}

func tlsPath(d *v1alpha1.Directory) string {
	if d.CAFile != "" {
		return specPath.Child("caFile").String()
	}
	return specPath.Child("url").String()
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// netError drops the "dial tcp …:" noise that repeats the URL.
func netError(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}

func tlsError(err error) string {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var le *ldap.Error
	switch {
	case errors.As(err, &unknown):
		return "certificate signed by an unknown authority (set caFile to the CA that signed the server's certificate)"
	case errors.As(err, &host):
		return host.Error() + " (use the host name the certificate was issued for in url)"
	case errors.As(err, &le) && le.Err != nil:
		return tlsError(le.Err)
	case strings.Contains(err.Error(), "certificate signed by unknown authority"):
		// go-ldap's StartTLS flattens the handshake error to text.
		return tlsError(x509.UnknownAuthorityError{})
	}
	return err.Error()
}

func timeoutHint(err error, name string, d time.Duration) string {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Sprintf(" (no answer within %s, spec.directory.%s)", d, name)
	}
	return ""
}

func bindError(d *v1alpha1.Directory, err error, timeout time.Duration) string {
	switch {
	case ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials):
		src := "$" + d.BindPasswordEnv
		if d.BindPasswordFile != "" {
			src = d.BindPasswordFile
		}
		return fmt.Sprintf("invalid credentials (check bindDN and the password in %s)", src)
	case isTimeout(err):
		return fmt.Sprintf("no answer within %s (spec.directory.timeout)", timeout)
	}
	return ldapError(err)
}

func searchError(err error, timeout time.Duration) string {
	switch {
	case ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded):
		return "the server's size limit cut the search short; refusing a partial list " +
			"(raise the server's limit for the bind DN, e.g. OpenLDAP `limits dn.exact=\"<bindDN>\" size=unlimited`; " +
			"on 389 Directory Server/FreeIPA, whose limit counts per page, set `nsSizeLimit: -1` on the bind entry or keep pageSize at or below nsslapd-sizelimit (nsslapd-pagedsizelimit if set); " +
			"on Active Directory keep pageSize at or below MaxPageSize)"
	case ldap.IsErrorWithCode(err, ldap.LDAPResultTimeLimitExceeded):
		return "the server's time limit cut the search short; refusing a partial list (raise the server's time limit or spec.directory.timeout)"
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		return "the base DN does not exist"
	case isTimeout(err):
		return fmt.Sprintf("no answer within %s (spec.directory.timeout)", timeout)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return err.Error()
	}
	return ldapError(err)
}

func isTimeout(err error) bool {
	var le *ldap.Error
	if errors.As(err, &le) && le.ResultCode == ldap.ErrorNetwork && le.Err != nil {
		return strings.Contains(le.Err.Error(), "timed out")
	}
	return false
}

// ldapError words a go-ldap error as "Invalid Credentials: <diagnostic>".
func ldapError(err error) string {
	var le *ldap.Error
	if errors.As(err, &le) {
		name := ldap.LDAPResultCodeMap[le.ResultCode]
		msg := ""
		if le.Err != nil {
			msg = le.Err.Error()
		}
		switch {
		case name == "" || le.ResultCode == ldap.ErrorNetwork:
			return msg
		case msg == "":
			return name
		}
		return name + ": " + msg
	}
	return err.Error()
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
