package slapdtest_test

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"

	"github.com/go-ldap/ldap/v3"

	_ "github.com/peruser-dev/peruser/internal/golden" // defines -update for `go test ./... -update`
	"github.com/peruser-dev/peruser/internal/slapdtest"
)

func TestStartServesPlainStartTLSAndLDAPS(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{LDIFFiles: []string{slapdtest.Fixture("directory.ldif"), slapdtest.Fixture("broken.ldif")}})
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)

	count := func(c *ldap.Conn) int {
		t.Helper()
		res, err := c.Search(ldap.NewSearchRequest("ou=People,"+s.Suffix, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=posixAccount)", []string{"uid"}, nil))
		if err != nil {
			t.Fatal(err)
		}
		return len(res.Entries)
	}

	plain, err := ldap.DialURL(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if err := plain.StartTLS(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}); err != nil {
		t.Fatalf("StartTLS: %v", err)
	}
	if err := plain.Bind(s.RootDN, slapdtest.RootPassword); err != nil {
		t.Fatal(err)
	}
	if n := count(plain); n != 4 {
		t.Errorf("StartTLS: %d users, want 4", n)
	}

	secure, err := ldap.DialURL(s.LDAPSURL, ldap.DialWithTLSConfig(&tls.Config{RootCAs: pool, ServerName: "localhost"}))
	if err != nil {
		t.Fatal(err)
	}
	defer secure.Close()
	if n := count(secure); n != 4 {
		t.Errorf("LDAPS: %d users, want 4", n)
	}

	s.Stop()
	if _, err := ldap.DialURL(s.URL); err == nil {
		t.Error("slapd still answers after Stop")
	}
	s.Stop() // idempotent
}

func TestGenerateLDIFLoads(t *testing.T) {
	s := slapdtest.Start(t, slapdtest.Options{LDIF: slapdtest.GenerateLDIF(slapdtest.DefaultSuffix, 50, 10)})
	c, err := ldap.DialURL(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := c.Search(ldap.NewSearchRequest("ou=Groups,"+s.Suffix, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=posixGroup)", []string{"memberUid"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != 10 {
		t.Errorf("%d groups, want 10", len(res.Entries))
	}
}
