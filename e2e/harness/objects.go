package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
)

// ParseObjects splits a YAML stream into objects, dropping empty documents.
func ParseObjects(stream []byte) ([]*unstructured.Unstructured, error) {
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(stream), 4096)
	var objs []*unstructured.Unstructured
	for i := 0; ; i++ {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, fmt.Errorf("decoding document %d of the stream: %w", i, err)
		}
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
}

// EncodeObjects writes objects back as a YAML stream of JSON documents (valid YAML), the
// input kubectl takes with -f -.
func EncodeObjects(objs []*unstructured.Unstructured) ([]byte, error) {
	var buf bytes.Buffer
	for _, o := range objs {
		b, err := o.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("encoding %s: %w", Describe(o), err)
		}
		buf.WriteString("---\n")
		buf.Write(b)
		buf.WriteString("\n")
	}
	return buf.Bytes(), nil
}

// Describe names an object the way error messages should: Kind namespace/name.
func Describe(o *unstructured.Unstructured) string {
	if ns := o.GetNamespace(); ns != "" {
		return o.GetKind() + " " + ns + "/" + o.GetName()
	}
	return o.GetKind() + " " + o.GetName()
}

// Select returns the objects of kind in namespace ("" for any namespace).
func Select(objs []*unstructured.Unstructured, kind, namespace string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind && (namespace == "" || o.GetNamespace() == namespace) {
			out = append(out, o)
		}
	}
	return out
}

// Find returns the object of kind, namespace and name, or nil.
func Find(objs []*unstructured.Unstructured, kind, namespace, name string) *unstructured.Unstructured {
	for _, o := range Select(objs, kind, namespace) {
		if o.GetName() == name {
			return o
		}
	}
	return nil
}

// KustomizeBuild renders dir with the real kustomize CLI and the flags an exec KRM function
// needs.
func KustomizeBuild(ctx context.Context, kustomize, dir string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, kustomize, "build", "--enable-alpha-plugins", "--enable-exec", dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w\n%s", dir, err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// resource returns the dynamic client for o's kind, scoped to its namespace when namespaced.
func (c *Cluster) resource(o *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := o.GroupVersionKind()
	m, err := c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		// A kind the cached discovery has not seen yet may have just been installed.
		c.Mapper.Reset()
		if m, err = c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
			return nil, fmt.Errorf("mapping %s to a resource: %w", gvk, err)
		}
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return c.Dynamic.Resource(m.Resource).Namespace(o.GetNamespace()), nil
	}
	return c.Dynamic.Resource(m.Resource), nil
}

// Get reads the live version of o.
func (c *Cluster) Get(ctx context.Context, o *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	r, err := c.resource(o)
	if err != nil {
		return nil, err
	}
	live, err := r.Get(ctx, o.GetName(), metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("getting %s: %w", Describe(o), err)
	}
	return live, nil
}

// DryRunCreate asks the API server to create o with dryRun=All: every admission plugin and
// policy judges it, nothing is stored. The error is the server's verdict.
func (c *Cluster) DryRunCreate(ctx context.Context, o runtime.Object) error {
	u, ok := o.(*unstructured.Unstructured)
	if !ok {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			return fmt.Errorf("converting %T: %w", o, err)
		}
		u = &unstructured.Unstructured{Object: m}
	}
	r, err := c.resource(u)
	if err != nil {
		return err
	}
	_, err = r.Create(ctx, u, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"})
	return err
}

// IsForbiddenBy reports whether err is the API server refusing an object with a message that
// contains every one of marks (e.g. "violates PodSecurity", "ValidatingAdmissionPolicy").
func IsForbiddenBy(err error, marks ...string) bool {
	if err == nil {
		return false
	}
	for _, m := range marks {
		if !strings.Contains(err.Error(), m) {
			return false
		}
	}
	return true
}

// Namespaced reports whether o's kind lives in a namespace.
func (c *Cluster) Namespaced(o *unstructured.Unstructured) (bool, error) {
	gvk := o.GroupVersionKind()
	m, err := c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return false, fmt.Errorf("mapping %s to a resource: %w", gvk, err)
	}
	return m.Scope.Name() == meta.RESTScopeNameNamespace, nil
}

// podTemplatePaths says where each built-in workload kind keeps its pod template.
var podTemplatePaths = map[string][]string{
	"Deployment":            {"spec", "template"},
	"ReplicaSet":            {"spec", "template"},
	"ReplicationController": {"spec", "template"},
	"StatefulSet":           {"spec", "template"},
	"DaemonSet":             {"spec", "template"},
	"Job":                   {"spec", "template"},
	"CronJob":               {"spec", "jobTemplate", "spec", "template"},
}

// PodsOf returns the pods that o would run, as Pod objects in namespace: o itself when it is
// a Pod, one Pod per pod template for a workload, none otherwise. Pod Security Admission
// enforces on pods only (it merely warns on workloads), so these are what it must judge.
func PodsOf(o *unstructured.Unstructured, namespace string) []*unstructured.Unstructured {
	var spec map[string]any
	var labels map[string]any
	switch path, ok := podTemplatePaths[o.GetKind()]; {
	case o.GetKind() == "Pod":
		spec, _, _ = unstructured.NestedMap(o.Object, "spec")
		labels, _, _ = unstructured.NestedMap(o.Object, "metadata", "labels")
	case ok:
		spec, _, _ = unstructured.NestedMap(o.Object, append(path, "spec")...)
		labels, _, _ = unstructured.NestedMap(o.Object, append(path, "metadata", "labels")...)
	default:
		return nil
	}
	if spec == nil {
		return nil
	}
	// The workload's ServiceAccount is only dry-run created, and a cluster running the
	// ServiceAccount admission plugin rejects pods naming a missing one: run as default.
	delete(spec, "serviceAccountName")
	delete(spec, "serviceAccount")
	pod := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "Pod",
		"metadata":   map[string]any{"name": strings.ToLower(o.GetKind()) + "-" + o.GetName(), "namespace": namespace},
		"spec":       spec,
	}}
	if labels != nil {
		pod.SetLabels(toStringMap(labels))
	}
	return []*unstructured.Unstructured{pod}
}

func toStringMap(m map[string]any) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = fmt.Sprint(v)
	}
	return out
}
