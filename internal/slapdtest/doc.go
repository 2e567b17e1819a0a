// Package slapdtest runs a throwaway OpenLDAP slapd for tests: it writes a slapd.conf
// and a self-signed CA and server certificate (SANs 127.0.0.1 and localhost) into a
// temporary directory, loads LDIF with slapadd, starts slapd on free 127.0.0.1 ports
// (ldap:// with StartTLS, and ldaps://) and stops it by PID when the test ends.
// Without slapd installed, tests are skipped, or fail under PERUSER_REQUIRE_TOOLS=1.
package slapdtest
