package directory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/field"
	"github.com/peruser-dev/peruser/identity"
	"github.com/peruser-dev/peruser/internal/ynode"
)

// SnapshotKind is the kind of a snapshot file.
const SnapshotKind = "DirectorySnapshot"

// Snapshot is what a directory resolved to: every selected user with their uid, gid
// and groups, sorted by name. It holds no secrets and no timestamps, so the same
// directory gives the same bytes and a change of users is a reviewable diff.
type Snapshot struct {
	APIVersion string       `json:"apiVersion"`
	Kind       string       `json:"kind"`
	Metadata   SnapshotMeta `json:"metadata"`
	// Source is the query the snapshot answers; a site whose query differs cannot
	// use it (it would render users the site no longer selects).
	Source Source `json:"source"`
	Users  []User `json:"users"`
}

// SnapshotMeta names the site the snapshot was taken for.
type SnapshotMeta struct {
	Name string `json:"name"`
}

// Source is the part of spec.directory that decides which users and groups come back.
// Connection settings (TLS, bind, timeouts, page size) do not change the answer and
// are left out.
type Source struct {
	URL          string              `json:"url"`
	Users        SourceSearch        `json:"users"`
	Groups       SourceSearch        `json:"groups"`
	MemberScheme string              `json:"memberScheme"`
	Attributes   v1alpha1.Attributes `json:"attributes"`
	// OnInvalidRecord is recorded when it is skip: a snapshot taken while unusable
	// records were skipped must not serve a site that wants them to fail.
	OnInvalidRecord string `json:"onInvalidRecord,omitempty"`
}

// SourceSearch is one search of a Source.
type SourceSearch struct {
	BaseDN   string   `json:"baseDN"`
	Filter   string   `json:"filter"`
	InGroups []string `json:"inGroups,omitempty"`
}

// User is one directory user.
type User struct {
	Name string `json:"name"`
	UID  int64  `json:"uid"`
	GID  int64  `json:"gid"`
	// Groups are the user's groups, the primary one included, sorted by name.
	Groups []identity.Group `json:"groups,omitempty"`
}

// SourceOf is the Source of a defaulted directory spec.
func SourceOf(d *v1alpha1.Directory) Source {
	src := Source{
		URL:          d.URL,
		Users:        SourceSearch{BaseDN: d.Users.BaseDN, Filter: d.Users.Filter, InGroups: slices.Clone(d.Users.InGroups)},
		Groups:       SourceSearch{BaseDN: d.Groups.BaseDN, Filter: d.Groups.Filter},
		MemberScheme: d.MemberScheme,
		Attributes:   d.Attributes,
	}
	if d.OnInvalidRecord == v1alpha1.InvalidRecordSkip {
		src.OnInvalidRecord = d.OnInvalidRecord
	}
	return src
}

// orFail reads an unrecorded onInvalidRecord as the default, fail.
func orFail(v string) string {
	if v == "" {
		return v1alpha1.InvalidRecordFail
	}
	return v
}

// NewSnapshot wraps users resolved for the site named site with query src.
func NewSnapshot(site string, src Source, users []User) *Snapshot {
	sort.Slice(users, func(i, j int) bool { return users[i].Name < users[j].Name })
	return &Snapshot{
		APIVersion: v1alpha1.APIVersion,
		Kind:       SnapshotKind,
		Metadata:   SnapshotMeta{Name: site},
		Source:     src,
		Users:      users,
	}
}

// Identities converts the snapshot's users for package resolve.
func (s *Snapshot) Identities() []identity.User {
	if s == nil {
		return nil
	}
	out := make([]identity.User, len(s.Users))
	for i, u := range s.Users {
		out[i] = identity.User{Name: u.Name, UID: u.UID, GID: u.GID, Groups: slices.Clone(u.Groups)}
	}
	return out
}

const snapshotHeader = `# A directory snapshot written by ` + "`krm-fn snapshot SITE.yaml`" + `: the users spec.directory
# resolved to. Rendering reads this file instead of LDAP. Do not edit by hand; refresh
# it (a scheduled CI job does) and review the diff like code. See docs/directory.md.
`

// Marshal writes the snapshot as YAML: fixed field order, one line per group.
func (s *Snapshot) Marshal() ([]byte, error) {
	users := make([]*yaml.Node, len(s.Users))
	for i, u := range s.Users {
		kv := []*yaml.Node{ynode.Str("name"), ynode.Str(u.Name), ynode.Str("uid"), ynode.Int(u.UID), ynode.Str("gid"), ynode.Int(u.GID)}
		if len(u.Groups) > 0 {
			groups := make([]*yaml.Node, len(u.Groups))
			for k, g := range u.Groups {
				groups[k] = ynode.Map(ynode.Str("name"), ynode.Str(g.Name), ynode.Str("gid"), ynode.Int(g.GID))
				groups[k].Style = yaml.FlowStyle
			}
			kv = append(kv, ynode.Str("groups"), ynode.Seq(groups...))
		}
		users[i] = ynode.Map(kv...)
	}
	search := func(q SourceSearch) *yaml.Node {
		kv := []*yaml.Node{ynode.Str("baseDN"), ynode.Str(q.BaseDN), ynode.Str("filter"), ynode.Str(q.Filter)}
		if len(q.InGroups) > 0 {
			items := make([]*yaml.Node, len(q.InGroups))
			for i, g := range q.InGroups {
				items[i] = ynode.Str(g)
			}
			kv = append(kv, ynode.Str("inGroups"), ynode.Seq(items...))
		}
		return ynode.Map(kv...)
	}
	a := s.Source.Attributes
	attrs := ynode.Map(ynode.Str("name"), ynode.Str(a.Name), ynode.Str("uid"), ynode.Str(a.UID), ynode.Str("gid"), ynode.Str(a.GID),
		ynode.Str("groupName"), ynode.Str(a.GroupName), ynode.Str("groupGID"), ynode.Str(a.GroupGID))
	attrs.Style = yaml.FlowStyle
	usersNode := ynode.Seq(users...)
	if len(users) == 0 {
		usersNode.Style = yaml.FlowStyle
	}
	source := ynode.Map(
		ynode.Str("url"), ynode.Str(s.Source.URL),
		ynode.Str("users"), search(s.Source.Users),
		ynode.Str("groups"), search(s.Source.Groups),
		ynode.Str("memberScheme"), ynode.Str(s.Source.MemberScheme),
		ynode.Str("attributes"), attrs,
	)
	if s.Source.OnInvalidRecord != "" {
		source.Content = append(source.Content, ynode.Str("onInvalidRecord"), ynode.Str(s.Source.OnInvalidRecord))
	}
	doc := ynode.Map(
		ynode.Str("apiVersion"), ynode.Str(s.APIVersion),
		ynode.Str("kind"), ynode.Str(s.Kind),
		ynode.Str("metadata"), ynode.Map(ynode.Str("name"), ynode.Str(s.Metadata.Name)),
		ynode.Str("source"), source,
		ynode.Str("users"), usersNode,
	)
	var b bytes.Buffer
	b.WriteString(snapshotHeader)
	enc := yaml.NewEncoder(&b)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("writing snapshot: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("writing snapshot: %w", err)
	}
	return b.Bytes(), nil
}

// Write writes the snapshot to w.
func (s *Snapshot) Write(w io.Writer) error {
	b, err := s.Marshal()
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// ReadSnapshot reads and checks the snapshot file at path.
func ReadSnapshot(path string) (*Snapshot, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseSnapshot(data, path)
}

// ParseSnapshot decodes a snapshot strictly and checks it as thoroughly as live
// data: a hand-edited snapshot with a duplicate uid fails like a directory would.
//
// It reads YAML 1.2, as the snapshot was written: a user named "yes" stays a string.
// Errors are a field.List naming source, one line per problem.
func ParseSnapshot(data []byte, source string) (*Snapshot, error) {
	fail := func(format string, args ...any) error {
		return field.List{{Source: source, Message: fmt.Sprintf(format, args...)}}
	}
	js := []byte("{}") // an empty file is an empty document: refused below for its kind
	if len(bytes.TrimSpace(data)) > 0 {
		node, err := yaml.Parse(string(data))
		if err != nil {
			return nil, fail("not valid YAML: %v", err)
		}
		if js, err = node.MarshalJSON(); err != nil {
			return nil, fail("not valid YAML: %v", err)
		}
	}
	var s Snapshot
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fail("not a %s: %v", SnapshotKind, err)
	}
	if s.APIVersion != v1alpha1.APIVersion || s.Kind != SnapshotKind {
		return nil, fail("is %s %s, want apiVersion: %s, kind: %s", s.APIVersion, s.Kind, v1alpha1.APIVersion, SnapshotKind)
	}
	if errs := s.check(); len(errs) > 0 {
		return nil, errs.WithSource(source, nil)
	}
	return &s, nil
}

// check applies the identity rule to the snapshot's users, as to live data.
func (s *Snapshot) check() field.List {
	var errs field.List
	users := field.Path("users")
	for _, p := range identity.Check(s.Identities(), func(j int) string { return users.Index(j).String() }) {
		errs = append(errs, field.Errorf(users.Index(p.Index).String()+"."+p.Field, "%s", p.Message))
	}
	return errs
}

// Matches reports how the snapshot's query differs from the site's; empty when the
// snapshot answers the site's query.
func (s *Snapshot) Matches(want Source) []string {
	got := s.Source
	var diffs []string
	cmp := func(name, have, want string) {
		if have != want {
			diffs = append(diffs, fmt.Sprintf("%s is %q in the snapshot but %q in the site", name, have, want))
		}
	}
	cmp("url", got.URL, want.URL)
	cmp("users.baseDN", got.Users.BaseDN, want.Users.BaseDN)
	cmp("users.filter", got.Users.Filter, want.Users.Filter)
	if !slices.Equal(got.Users.InGroups, want.Users.InGroups) {
		// Compared item by item (["a,b"] is not ["a", "b"]), shown joined with ", ".
		diffs = append(diffs, fmt.Sprintf("users.inGroups is %q in the snapshot but %q in the site",
			strings.Join(got.Users.InGroups, ", "), strings.Join(want.Users.InGroups, ", ")))
	}
	cmp("groups.baseDN", got.Groups.BaseDN, want.Groups.BaseDN)
	cmp("groups.filter", got.Groups.Filter, want.Groups.Filter)
	cmp("memberScheme", got.MemberScheme, want.MemberScheme)
	if got.Attributes != want.Attributes {
		diffs = append(diffs, fmt.Sprintf("attributes are %+v in the snapshot but %+v in the site", got.Attributes, want.Attributes))
	}
	cmp("onInvalidRecord", orFail(got.OnInvalidRecord), orFail(want.OnInvalidRecord))
	return diffs
}
