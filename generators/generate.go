package generators

import (
	"fmt"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/identity"
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
	siteWide := append(g.siteWide(), configMaps...)
	if err := emit(wrap(siteWide)); err != nil {
		return err
	}
	for _, u := range users {
		if err := emit(wrap(g.perUser(u))); err != nil {
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
	out = append(out, g.podRestrictionsPolicy()...)    // podrestrictions.go
	return out
}

// perUser are one user's objects, in this fixed kind order: Namespace, ServiceAccount,
// Secret, RoleBindings (user, initializer, job-pod-reaper), NetworkPolicies,
// ResourceQuota, LimitRange, PersistentVolumeClaim, PersistentVolume, Ingress. Objects
// a site does not configure are left out; the order of the others never changes.
func (g *generator) perUser(u identity.User) []*yaml.Node {
	out := make([]*yaml.Node, 0, perUserObjects)
	out = append(out, g.namespace(u))
	out = append(out, g.serviceAccount(u))
	if s := g.pullSecret(u); s != nil {
		out = append(out, s)
	}
	out = append(out, g.roleBindings(u)...)
	out = append(out, g.jobPodReaperRoleBinding(u)...) // reapers.go
	out = append(out, g.networkPolicies(u)...)
	out = append(out, g.quota(u)...)
	out = append(out, g.storage(u)...) // storage.go: PersistentVolumeClaim, PersistentVolume
	out = append(out, g.ingress(u)...) // ingress.go
	return out
}

// userLabels are the labels of every object of user u.
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
