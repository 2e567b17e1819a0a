package slapdtest

import (
	"bytes"
	"fmt"
)

// GenerateLDIF is a synthetic directory for benchmarks: the suffix, ou=People with
// users posixAccounts (user00000…, uidNumber 100000+i) and ou=Groups with groups
// posixGroups (group0000…, gidNumber 200000+j). Every user is in three groups,
// recorded both as the group's memberUid and as the user's memberOf, so that the
// memberUid and memberOf schemes read the same memberships.
func GenerateLDIF(suffix string, users, groups int) []byte {
	var b bytes.Buffer
	b.Grow(users*400 + groups*300)
	fmt.Fprintf(&b, "dn: %s\nobjectClass: dcObject\nobjectClass: organization\no: Benchmark\ndc: %s\n\n", suffix, firstValue(suffix))
	fmt.Fprintf(&b, "dn: ou=People,%s\nobjectClass: organizationalUnit\nou: People\n\n", suffix)
	fmt.Fprintf(&b, "dn: ou=Groups,%s\nobjectClass: organizationalUnit\nou: Groups\n\n", suffix)
	members := make([][]int, groups)
	for i := 0; i < users; i++ {
		name := fmt.Sprintf("user%05d", i)
		fmt.Fprintf(&b, "dn: uid=%s,ou=People,%s\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\n", name, suffix)
		fmt.Fprintf(&b, "uid: %s\ncn: %s\nsn: %s\nuidNumber: %d\ngidNumber: %d\nhomeDirectory: /home/%s\n", name, name, name, 100000+i, 100000+i, name)
		if groups > 0 {
			for _, g := range GroupsOf(i, groups) {
				members[g] = append(members[g], i)
				fmt.Fprintf(&b, "memberOf: cn=group%04d,ou=Groups,%s\n", g, suffix)
			}
		}
		b.WriteString("\n")
	}
	for j := 0; j < groups; j++ {
		fmt.Fprintf(&b, "dn: cn=group%04d,ou=Groups,%s\nobjectClass: posixGroup\ncn: group%04d\ngidNumber: %d\n", j, suffix, j, 200000+j)
		for _, i := range members[j] {
			fmt.Fprintf(&b, "memberUid: user%05d\n", i)
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

// GroupsOf are the distinct groups GenerateLDIF puts user i in.
func GroupsOf(i, groups int) []int {
	var out []int
	for _, g := range []int{i % groups, (i*7 + 1) % groups, (i*13 + 5) % groups} {
		dup := false
		for _, o := range out {
			dup = dup || o == g
		}
		if !dup {
			out = append(out, g)
		}
	}
	return out
}

// firstValue is "example" for "dc=example,dc=org".
func firstValue(dn string) string {
	start := 0
	for i := 0; i < len(dn); i++ {
		switch dn[i] {
		case '=':
			start = i + 1
		case ',':
			return dn[start:i]
		}
	}
	return dn[start:]
}
