package generators_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/cel/environment"

	"github.com/peruser-dev/peruser/generators"
)

// TestServicesPolicy evaluates the Services policy as kube-apiserver does (see
// admission_test.go); the e2e suite runs it on a real apiserver too.
func TestServicesPolicy(t *testing.T) {
	svc := func(typ corev1.ServiceType, externalIPs ...string) *corev1.Service {
		return &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "backend", Namespace: "user-oakley"},
			Spec:       corev1.ServiceSpec{Type: typ, ExternalIPs: externalIPs, ExternalName: map[bool]string{true: "backend.user-sam.svc.cluster.local"}[typ == corev1.ServiceTypeExternalName]},
		}
	}
	for _, tc := range []struct {
		name, admission string
		svc             *corev1.Service
		want            string
	}{
		{"ClusterIP", "{validatingAdmissionPolicy: true}", svc(corev1.ServiceTypeClusterIP), ""},
		{"type unset is ClusterIP", "{validatingAdmissionPolicy: true}", svc(""), ""},
		{"NodePort (OOD's template)", "{validatingAdmissionPolicy: true}", svc(corev1.ServiceTypeNodePort), ""},
		{"ExternalName", "{validatingAdmissionPolicy: true}", svc(corev1.ServiceTypeExternalName), "spec.type ExternalName is not allowed in user namespaces (allowed: ClusterIP, NodePort)"},
		{"LoadBalancer", "{validatingAdmissionPolicy: true}", svc(corev1.ServiceTypeLoadBalancer), "spec.type LoadBalancer is not allowed"},
		{"externalIPs", "{validatingAdmissionPolicy: true}", svc(corev1.ServiceTypeClusterIP, "10.0.0.1"), "spec.externalIPs is not allowed in user namespaces"},
		{"NodePort when the site allows only ClusterIP", "{validatingAdmissionPolicy: true, serviceTypes: [ClusterIP]}", svc(corev1.ServiceTypeNodePort),
			"spec.type NodePort is not allowed in user namespaces (allowed: ClusterIP)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			site := "apiVersion: peruser.dev/v1alpha1\nkind: Site\nmetadata: {name: cel-test}\nspec:\n  users: [{name: oakley, uid: 20001, gid: 20001}]\n  admission: " + tc.admission + "\n"
			p, _ := sitePolicy(t, site, generators.ServicesPolicy)
			for _, op := range []admission.Operation{admission.Create, admission.Update} {
				got := compile(t, p, environment.NewExpressions).admitService(t, tc.svc, op)
				if tc.want == "" {
					assert.Empty(t, got, "%s", op)
				} else {
					assert.Contains(t, got, tc.want, "%s", op)
				}
			}
		})
	}
}

// admitService is admit for a Service in a user namespace.
func (e *evaluator) admitService(t *testing.T, svc *corev1.Service, op admission.Operation) string {
	t.Helper()
	r := request{kind: "Service", resource: "services", obj: svc, ns: userNamespace(oakleyAnnotations), op: op}
	if op == admission.Update {
		r.old = &corev1.Service{ObjectMeta: svc.ObjectMeta}
	}
	msg, _ := e.evaluate(t, r)
	return msg
}
