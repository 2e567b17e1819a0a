package generators

import (
	"fmt"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/identity"
	"github.com/peruser-dev/peruser/shard"
)

// Labels every object carries.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "peruser"
	LabelSite      = "peruser.dev/site"
	LabelUser      = "peruser.dev/user"
)

// Annotations on each user namespace, read by the admission policy and by people.
const (
	AnnotationUsername         = "peruser.dev/username"
	AnnotationUID              = "peruser.dev/uid"
	AnnotationGID              = "peruser.dev/gid"
	AnnotationSupplementalGIDs = "peruser.dev/supplemental-gids"
)

// Inputs are what the edge read at render time: file and environment contents that
// the spec only points to. Generators never read them themselves.
type Inputs struct {
	// DockerConfigJSON is the registry pull secret's content, already checked.
	DockerConfigJSON []byte
}

// Generate returns every object of the site: site-wide objects first, then each
// user's objects in users' order (resolve sorts them by namespace), each user's in a
// fixed kind order. users must come from package resolve.
func Generate(site *v1alpha1.Site, users []identity.User, in Inputs) ([]*yaml.RNode, error) {
	var out []*yaml.RNode
	err := Stream(site, users, in, func(batch []*yaml.RNode) error {
		out = append(out, batch...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Stream emits the objects of Generate in batches: the site-wide objects, then each
// user's. Every check that can fail runs before the first batch, so an error never
// follows output, and only one user's objects are held at a time: rendering 10,000
// users needs the memory of one.
func Stream(site *v1alpha1.Site, users []identity.User, in Inputs, emit func(batch []*yaml.RNode) error) error {
	return StreamPart(site, users, in, shard.Whole, emit)
}

// StreamPart is Stream for one part of a sharded site: the site-wide objects, or the
// objects of one shard's users. users is still every user of the site, and every check
// runs on all of them, so a part renders only when the whole site would.
func StreamPart(site *v1alpha1.Site, users []identity.User, in Inputs, part shard.Part, emit func(batch []*yaml.RNode) error) error {
	if err := part.Check(site.ShardCount()); err != nil {
		return err
	}
	n := site.ShardCount()
	return Visit(site, users, in, part.SiteWide(), func(u identity.User) bool { return part.Holds(u.Name, n) },
		func(_ *identity.User, batch []*yaml.RNode) error { return emit(batch) })
}

// Visit is the one generation loop behind Stream, StreamPart and split renders: after
// every check, it emits the site-wide objects (when site is true; u is nil) and then
// the objects of each user that want selects, one user per batch.
func Visit(site *v1alpha1.Site, users []identity.User, in Inputs, siteWide bool, want func(identity.User) bool,
	emit func(u *identity.User, batch []*yaml.RNode) error) error {
	g, err := newGenerator(site, in)
	if err != nil {
		return err
	}
	if err := g.checkStorage(users); err != nil { // storage.go
		return err
	}
	if err := g.checkMounts(users); err != nil { // podrestrictions.go
		return err
	}
	configMaps, err := g.ldapConfigMaps(users) // ldapconfigmaps.go
	if err != nil {
		return err
	}
	if siteWide {
		if err := emit(nil, wrap(append(g.siteWide(), configMaps...))); err != nil {
			return err
		}
	}
	for i := range users {
		if !want(users[i]) {
			continue
		}
		if err := emit(&users[i], wrap(g.perUser(users[i]))); err != nil {
			return err
		}
	}
	return nil
}

func wrap(nodes []*yaml.Node) []*yaml.RNode {
	out := make([]*yaml.RNode, len(nodes))
	for i, n := range nodes {
		out[i] = yaml.NewRNode(n)
	}
	return out
}

// perUserObjects is the most objects one user gets (the kinds listed at perUser), to
// size its slice.
const perUserObjects = 13

// generator holds what every object of one render shares, computed once.
type generator struct {
	site *v1alpha1.Site
	// siteLabels are managed-by and site, the labels of every object.
	siteLabels map[string]string
	// dockerConfigB64 is the pull secret's data, encoded once for all users.
	dockerConfigB64 string
}

func newGenerator(site *v1alpha1.Site, in Inputs) (*generator, error) {
	g := &generator{
		site:       site,
		siteLabels: map[string]string{LabelManagedBy: ManagedBy, LabelSite: site.Metadata.Name},
	}
	if reg := site.Spec.Registry; reg != nil && reg.ExternalSecret == nil {
		if len(in.DockerConfigJSON) == 0 {
			return nil, fmt.Errorf("spec.registry: the docker config was not read (render-time input missing)")
		}
		g.dockerConfigB64 = encodeBase64(in.DockerConfigJSON)
	}
	return g, nil
}

// siteWide are the objects emitted once per site.
func (g *generator) siteWide() []*yaml.Node {
	var out []*yaml.Node
	out = append(out, g.clusterRoles()...)
	out = append(out, g.jobPodReaperClusterRoles()...) // reapers.go
	out = append(out, g.admissionPolicy()...)          // admission.go
	out = append(out, g.supplementalGroupsPolicy()...) // supplementalgroups.go
	out = append(out, g.servicesPolicy()...)           // services.go
	out = append(out, g.podRestrictionsPolicy()...)    // podrestrictions.go
	return out
}

// perUser are one user's objects, in this fixed kind order: Namespace, ServiceAccount,
// Secret, RoleBindings (user, initializer, job-pod-reaper), NetworkPolicies,
// ResourceQuota, LimitRange, PersistentVolumeClaim, PersistentVolume, Ingress. Objects
// a site does not configure are left out; the order of the others never changes.
func (g *generator) perUser(u identity.User) []*yaml.Node {
	labels := g.userLabels(u) // one map for all of u's objects: read it, never write it
	out := make([]*yaml.Node, 0, perUserObjects)
	out = append(out, g.namespace(u, labels))
	out = append(out, g.serviceAccount(u, labels))
	if s := g.pullSecret(u, labels); s != nil {
		out = append(out, s)
	}
	out = append(out, g.roleBindings(u, labels)...)
	out = append(out, g.jobPodReaperRoleBinding(u, labels)...) // reapers.go
	out = append(out, g.networkPolicies(u, labels)...)
	out = append(out, g.quota(u, labels)...)
	out = append(out, g.storage(u, labels)...) // storage.go: PersistentVolumeClaim, PersistentVolume
	out = append(out, g.ingress(u, labels)...) // ingress.go
	return out
}

// userLabels are the labels of every object of user u. perUser computes them once and
// hands the one map to each generator of u's objects, which only read it (meta turns
// it into nodes at once): a generator that needs more labels copies them into a map of
// its own, as namespace does.
func (g *generator) userLabels(u identity.User) map[string]string {
	l := make(map[string]string, len(g.siteLabels)+1)
	for k, v := range g.siteLabels {
		l[k] = v
	}
	l[LabelUser] = u.Slug
	return l
}

func formatGIDs(gids []int64) string {
	parts := make([]string, len(gids))
	for i, g := range gids {
		parts[i] = strconv.FormatInt(g, 10)
	}
	return strings.Join(parts, ",")
}
