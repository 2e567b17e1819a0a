package krmfn

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/peruser-dev/peruser/generators"
	"github.com/peruser-dev/peruser/render"
)

// userRow is one user as `krm-fn users --output json` prints it.
type userRow struct {
	Name      string   `json:"name"`
	Namespace string   `json:"namespace"`
	Label     string   `json:"label"` // the peruser.dev/user label of the user's objects
	UID       int64    `json:"uid"`
	GID       int64    `json:"gid"`
	Groups    []string `json:"groups"`
	Profile   string   `json:"profile,omitempty"`
}

// runUsers is `krm-fn users`: the users exactly as a render resolves them (the same
// naming, directory snapshot and checks), so scripts need not parse rendered YAML.
func runUsers(c call, args []string) error {
	output, departed := "table", false
	rest, err := parseFlags("users", args, map[string]*bool{"--departed-selector": &departed},
		map[string]*string{"--output": &output, "-o": &output}) // commands.go
	if err != nil {
		return err
	}
	if output != "table" && output != "json" {
		return usageError{fmt.Sprintf("users: --output is %q; accepted: table, json", output)}
	}
	path, err := oneSite("users", rest)
	if err != nil {
		return err
	}
	doc, err := loadSite(path, c.stdin) // shards.go
	if err != nil {
		return err
	}
	users, err := render.Users(c.ctx, doc.Site, c.env)
	if err != nil {
		return doc.Errors(err)
	}
	warn(c.env.Stderr, doc)
	if departed {
		// Every per-user object of this site whose user is not rendered now: what the
		// next sync revokes (docs/generators.md, lifecycle).
		labels := make([]string, len(users))
		for i, u := range users {
			labels[i] = u.Slug
		}
		sel := fmt.Sprintf("%s=%s,%s=%s,%s", generators.LabelManagedBy, generators.ManagedBy, generators.LabelSite, doc.Site.Metadata.Name, generators.LabelUser)
		if len(labels) > 0 {
			sel += fmt.Sprintf(",%s notin (%s)", generators.LabelUser, strings.Join(labels, ","))
		}
		_, err := fmt.Fprintln(c.stdout, sel)
		return err
	}
	rows := make([]userRow, len(users))
	for i, u := range users {
		rows[i] = userRow{Name: u.Name, Namespace: u.Namespace, Label: u.Slug, UID: u.UID, GID: u.GID, Groups: u.GroupNames(), Profile: u.Profile}
	}
	if output == "json" {
		b, err := json.MarshalIndent(rows, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(c.stdout, "%s\n", b)
		return err
	}
	w := tabwriter.NewWriter(c.stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tNAMESPACE\tLABEL\tUID\tGID\tPROFILE")
	for _, r := range rows {
		profile := r.Profile
		if profile == "" {
			profile = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%s\n", r.Name, r.Namespace, r.Label, r.UID, r.GID, profile)
	}
	return w.Flush()
}
