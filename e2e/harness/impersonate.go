package harness

import (
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// As returns a connection to the same API server that acts as s, through impersonation
// (kubectl's --as/--as-group): every request is authorized and admitted as s's own.
func (c *Cluster) As(s Subject) (*Cluster, error) {
	cfg := rest.CopyConfig(c.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: s.User, Groups: s.Groups}
	as := &Cluster{Local: c.Local, Kubeconfig: c.Kubeconfig, Kubectl: c.Kubectl, Config: cfg, Mapper: c.Mapper}
	var err error
	if as.Client, err = kubernetes.NewForConfig(cfg); err != nil {
		return nil, fmt.Errorf("creating an impersonating clientset: %w", err)
	}
	if as.Dynamic, err = dynamic.NewForConfig(cfg); err != nil {
		return nil, fmt.Errorf("creating an impersonating dynamic client: %w", err)
	}
	return as, nil
}

// Verdict names who refused a request, from the API server's error: "" when it was
// admitted, else RBAC, PodSecurity, the name of the ValidatingAdmissionPolicy, or
// validation (the API's own field checks); "other: …" for anything else.
func Verdict(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	switch {
	case apierrors.IsForbidden(err) && strings.Contains(msg, "violates PodSecurity"):
		return "PodSecurity"
	case apierrors.IsForbidden(err) && strings.Contains(msg, "ValidatingAdmissionPolicy '"):
		name := msg[strings.Index(msg, "ValidatingAdmissionPolicy '")+len("ValidatingAdmissionPolicy '"):]
		return name[:strings.Index(name, "'")]
	case apierrors.IsForbidden(err) && strings.Contains(msg, "cannot "):
		return "RBAC"
	case apierrors.IsInvalid(err):
		return "validation"
	}
	return "other: " + msg
}
