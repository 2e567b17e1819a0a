package directory

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/identity"
)

// This file is pure: search results in, users out. Everything that can be wrong with
// directory data is decided here, so it is tested without a server.

// maxProblems caps how many bad records one error lists; the count says the rest.
const maxProblems = 20

// group is a parsed group entry.
type group struct {
	dn      string
	name    string
	gid     int64
	members []string // memberUid values or member DNs, per scheme
}

// userRecord is a parsed user entry.
type userRecord struct {
	dn       string
	user     User
	memberOf []string
}

// Result is what Build made of the entries.
type Result struct {
	Users []User
	// Skipped names each record left out under onInvalidRecord: skip.
	Skipped []string
}

// Build turns user and group entries into users, following d's attributes, member
// scheme and user selection. Records that cannot become a user or group fail the
// build, or with onInvalidRecord: skip are reported in Result.Skipped. Duplicate
// usernames, uids and group names always fail: no choice between two of them would be
// safe.
func Build(d *v1alpha1.Directory, userEntries, groupEntries []*ldap.Entry) (*Result, error) {
	spec := field.Path("spec").Child("directory")
	skip := d.OnInvalidRecord == v1alpha1.InvalidRecordSkip
	var problems, fatal []string
	var skipped []string
	bad := func(what string) {
		if skip {
			skipped = append(skipped, what)
		} else {
			problems = append(problems, what)
		}
	}
	a := d.Attributes

	// Groups.
	groups := make([]group, 0, len(groupEntries))
	for _, e := range groupEntries {
		name, err := single(e, a.GroupName, e.DN)
		if err != nil {
			bad(fmt.Sprintf("group %s: %v", e.DN, err))
			continue
		}
		gid, err := number(e, a.GroupGID)
		if err != nil {
			bad(fmt.Sprintf("group %s (%s): %v", e.DN, name, err))
			continue
		}
		g := group{dn: e.DN, name: name, gid: gid}
		switch d.MemberScheme {
		case v1alpha1.MemberUID:
			g.members = e.GetEqualFoldAttributeValues("memberUid")
		case v1alpha1.MemberDN:
			g.members = e.GetEqualFoldAttributeValues("member")
		}
		groups = append(groups, g)
	}
	sort.Slice(groups, func(i, j int) bool {
		if groups[i].name != groups[j].name {
			return groups[i].name < groups[j].name
		}
		return groups[i].dn < groups[j].dn
	})
	groupByName := make(map[string]int, len(groups))
	groupByDN := make(map[string]int, len(groups))
	groupByGID := make(map[int64]int, len(groups))
	for i, g := range groups {
		if j, dup := groupByName[g.name]; dup {
			fatal = append(fatal, fmt.Sprintf("two groups are named %q: %s and %s", g.name, groups[j].dn, g.dn))
			continue
		}
		groupByName[g.name] = i
		groupByDN[normalizeDN(g.dn)] = i
		if _, seen := groupByGID[g.gid]; !seen { // groups are in name order: the first name wins
			groupByGID[g.gid] = i
		}
	}

	// Users.
	records := make([]userRecord, 0, len(userEntries))
	for _, e := range userEntries {
		name, err := single(e, a.Name, e.DN)
		if err != nil {
			bad(fmt.Sprintf("user %s: %v", e.DN, err))
			continue
		}
		uid, err := number(e, a.UID)
		if err != nil {
			bad(fmt.Sprintf("user %s (%s): %v", e.DN, name, err))
			continue
		}
		gid, err := number(e, a.GID)
		if err != nil {
			bad(fmt.Sprintf("user %s (%s): %v", e.DN, name, err))
			continue
		}
		r := userRecord{dn: e.DN, user: User{Name: name, UID: uid, GID: gid}}
		if d.MemberScheme == v1alpha1.MemberOf {
			r.memberOf = e.GetEqualFoldAttributeValues("memberOf")
		}
		records = append(records, r)
	}
	sort.Slice(records, func(i, j int) bool {
		if records[i].user.Name != records[j].user.Name {
			return records[i].user.Name < records[j].user.Name
		}
		return records[i].dn < records[j].dn
	})
	ids := make([]identity.User, len(records))
	byName := make(map[string]int, len(records))
	for i, r := range records {
		ids[i] = identity.User{Name: r.user.Name, UID: r.user.UID, GID: r.user.GID}
		byName[r.user.Name] = i
	}
	for _, p := range identity.Check(ids, func(j int) string { return records[j].dn }) {
		fatal = append(fatal, fmt.Sprintf("%s: %s", records[p.Index].dn, p.Message))
	}
	if len(fatal) > 0 || len(problems) > 0 {
		return nil, problemList(spec, fatal, problems)
	}

	// Memberships: member[i] holds group indexes of records[i].
	member := make([]map[int]bool, len(records))
	join := func(ui, gi int) {
		if member[ui] == nil {
			member[ui] = map[int]bool{}
		}
		member[ui][gi] = true
	}
	switch d.MemberScheme {
	case v1alpha1.MemberUID:
		for gi, g := range groups {
			for _, m := range g.members {
				if ui, ok := byName[m]; ok {
					join(ui, gi)
				}
			}
		}
	case v1alpha1.MemberDN:
		byDN := make(map[string]int, len(records))
		for i, r := range records {
			byDN[normalizeDN(r.dn)] = i
		}
		for gi, g := range groups {
			for _, m := range g.members {
				if ui, ok := byDN[normalizeDN(m)]; ok {
					join(ui, gi)
				}
			}
		}
	case v1alpha1.MemberOf:
		for ui, r := range records {
			for _, m := range r.memberOf {
				if gi, ok := groupByDN[normalizeDN(m)]; ok {
					join(ui, gi)
				}
			}
		}
	}
	// The primary group is a membership too, as `id` shows it.
	for ui, r := range records {
		if gi, ok := groupByGID[r.user.GID]; ok {
			join(ui, gi)
		}
	}

	// Selection by group.
	var want []int
	for i, name := range d.Users.InGroups {
		gi, ok := groupByName[name]
		if !ok {
			return nil, field.List{field.Errorf(spec.Child("users").Child("inGroups").Index(i).String(),
				"no group named %q under %s matching %s", name, d.Groups.BaseDN, d.Groups.Filter)}
		}
		want = append(want, gi)
	}

	users := make([]User, 0, len(records))
	for ui, r := range records {
		if len(want) > 0 && !memberOfAny(member[ui], want) {
			continue
		}
		u := r.user
		for gi := range member[ui] {
			u.Groups = append(u.Groups, identity.Group{Name: groups[gi].name, GID: groups[gi].gid})
		}
		sort.Slice(u.Groups, func(i, j int) bool { return u.Groups[i].Name < u.Groups[j].Name })
		users = append(users, u)
	}
	return &Result{Users: users, Skipped: skipped}, nil
}

func memberOfAny(m map[int]bool, want []int) bool {
	for _, gi := range want {
		if m[gi] {
			return true
		}
	}
	return false
}

// problemList is one error per problem, at spec.directory, capped at maxProblems.
func problemList(spec field.Path, fatal, problems []string) field.List {
	var errs field.List
	all := append(append([]string(nil), fatal...), problems...)
	for i, p := range all {
		if i == maxProblems {
			errs = append(errs, field.Errorf(spec.String(), "… and %d more problems", len(all)-maxProblems))
			break
		}
		errs = append(errs, field.Errorf(spec.String(), "%s", p))
	}
	if len(problems) > 0 {
		errs = append(errs, field.Errorf(spec.Child("onInvalidRecord").String(),
			"refusing a partial user list; fix the records, narrow users.filter, or set onInvalidRecord: skip to leave such records out"))
	}
	return errs
}

// single is the one value of attr. A multi-valued attribute is accepted only when
// one value is the entry's RDN value (uid: jdoe and uid: john.doe under uid=jdoe,…),
// as nss-pam-ldapd does.
func single(e *ldap.Entry, attr, dn string) (string, error) {
	vals := e.GetEqualFoldAttributeValues(attr)
	switch len(vals) {
	case 0:
		return "", fmt.Errorf("no %s", attr)
	case 1:
		if strings.TrimSpace(vals[0]) == "" {
			return "", fmt.Errorf("empty %s", attr)
		}
		return vals[0], nil
	}
	if parsed, err := ldap.ParseDN(dn); err == nil && len(parsed.RDNs) > 0 {
		for _, rdn := range parsed.RDNs[0].Attributes {
			if strings.EqualFold(rdn.Type, attr) {
				for _, v := range vals {
					if v == rdn.Value {
						return v, nil
					}
				}
			}
		}
	}
	return "", fmt.Errorf("%d values of %s (%s) and none is the entry's RDN", len(vals), attr, strings.Join(vals, ", "))
}

// number is attr as a POSIX id: one decimal value from 1 to 2147483647.
func number(e *ldap.Entry, attr string) (int64, error) {
	vals := e.GetEqualFoldAttributeValues(attr)
	switch {
	case len(vals) == 0:
		return 0, fmt.Errorf("no %s", attr)
	case len(vals) > 1:
		return 0, fmt.Errorf("%d values of %s", len(vals), attr)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(vals[0]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a number", attr, vals[0])
	}
	if !identity.ValidID(n) {
		return 0, fmt.Errorf("%s %d is out of range (1 to %d; 0 is root)", attr, n, identity.MaxID)
	}
	return n, nil
}

// normalizeDN is a comparison key for a DN: attribute types and values lowercased,
// spacing and escaping normalized, multi-valued RDNs sorted. Directories write
// member DNs in whatever case they were entered; LDAP compares them case-insensitively.
func normalizeDN(dn string) string {
	parsed, err := ldap.ParseDN(dn)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(dn))
	}
	var b strings.Builder
	b.Grow(len(dn))
	for i, rdn := range parsed.RDNs {
		if i > 0 {
			b.WriteByte(0) // cannot occur in a value, unlike ','
		}
		parts := make([]string, len(rdn.Attributes))
		for k, at := range rdn.Attributes {
			parts[k] = strings.ToLower(at.Type) + "\x01" + strings.ToLower(at.Value)
		}
		sort.Strings(parts)
		b.WriteString(strings.Join(parts, "\x02"))
	}
	return b.String()
}
