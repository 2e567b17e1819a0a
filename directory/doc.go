// Package directory resolves a site's users from LDAP: it connects (ldap://, StartTLS
// or ldaps://, always verified unless the site says otherwise), binds, runs paged
// searches for users and groups, applies the site's member scheme and returns a
// Snapshot — sorted, complete, or an error, never a partial list. A Snapshot is also
// a file (kind DirectorySnapshot) that makes renders hermetic: `krm-fn snapshot`
// writes it, and rendering reads it instead of contacting the server.
package directory
