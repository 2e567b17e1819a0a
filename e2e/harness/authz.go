package harness

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Subject is who a SubjectAccessReview asks about.
type Subject struct {
	User   string
	Groups []string
}

// ServiceAccount is the subject a ServiceAccount's token authenticates as.
func ServiceAccount(namespace, name string) Subject {
	return Subject{
		User:   "system:serviceaccount:" + namespace + ":" + name,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
	}
}

// Access is one question: may the subject do verb on group/resource in namespace ("" for
// cluster scope)?
type Access struct {
	Verb, Group, Resource, Namespace string
}

func (a Access) String() string {
	gr := a.Resource
	if a.Group != "" {
		gr += "." + a.Group
	}
	where := "cluster-wide"
	if a.Namespace != "" {
		where = "in " + a.Namespace
	}
	return a.Verb + " " + gr + " " + where
}

// Allowed asks the API server's authorizer, through a SubjectAccessReview, whether s may do a.
func (c *Cluster) Allowed(ctx context.Context, s Subject, a Access) (bool, error) {
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:   s.User,
		Groups: s.Groups,
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: a.Namespace, Verb: a.Verb, Group: a.Group, Resource: a.Resource,
		},
	}}
	got, err := c.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
	if err != nil {
		return false, fmt.Errorf("SubjectAccessReview for %s: %s: %w", s.User, a, err)
	}
	return got.Status.Allowed, nil
}

// Rights lists what s may do in namespace as the authorizer sees it, one entry per
// verb/group/resource/resourceName, from a SelfSubjectRulesReview made while impersonating s.
func (c *Cluster) Rights(ctx context.Context, s Subject, namespace string) (sets.Set[string], error) {
	cfg := rest.CopyConfig(c.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: s.User, Groups: s.Groups}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("impersonating %s: %w", s.User, err)
	}
	review := &authorizationv1.SelfSubjectRulesReview{Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: namespace}}
	got, err := client.AuthorizationV1().SelfSubjectRulesReviews().Create(ctx, review, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("SelfSubjectRulesReview as %s in %s: %w", s.User, namespace, err)
	}
	if got.Status.Incomplete {
		return nil, fmt.Errorf("SelfSubjectRulesReview as %s in %s is incomplete: %s", s.User, namespace, got.Status.EvaluationError)
	}
	rights := sets.New[string]()
	for _, r := range got.Status.ResourceRules {
		expand(rights, r.Verbs, r.APIGroups, r.Resources, r.ResourceNames)
	}
	return rights, nil
}

// RuleRights lists the rights RBAC rules grant, in the form Rights uses. Non-resource URLs
// are left out: they are not namespaced and SelfSubjectRulesReview lists them apart.
func RuleRights(rules []rbacv1.PolicyRule) sets.Set[string] {
	rights := sets.New[string]()
	for _, r := range rules {
		if len(r.NonResourceURLs) > 0 {
			continue
		}
		expand(rights, r.Verbs, r.APIGroups, r.Resources, r.ResourceNames)
	}
	return rights
}

func expand(into sets.Set[string], verbs, groups, resources, names []string) {
	if len(names) == 0 {
		names = []string{""}
	}
	for _, v := range verbs {
		for _, g := range groups {
			for _, r := range resources {
				for _, n := range names {
					into.Insert(strings.Join([]string{v, g, r, n}, "/"))
				}
			}
		}
	}
}

// SortedList is a set's members in order, for stable failure messages.
func SortedList(s sets.Set[string]) []string {
	l := s.UnsortedList()
	sort.Strings(l)
	return l
}

// ExpectAccess waits until the authorizer answers want for s and a, as RBAC reads bindings
// from an informer and may lag a just-applied change by a moment; it returns the last answer.
func (c *Cluster) ExpectAccess(ctx context.Context, s Subject, a Access, want bool) (bool, error) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, err := c.Allowed(ctx, s, a)
		if err != nil || got == want || time.Now().After(deadline) {
			return got, err
		}
		select {
		case <-ctx.Done():
			return got, nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}
