package harden

import (
	"encoding/json"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/peruser-dev/peruser/field"
)

// restrictedLatest is the level every hardened pod must pass: what a namespace labelled
// pod-security.kubernetes.io/enforce: restricted admits on the newest Kubernetes.
var restrictedLatest = psaapi.LevelVersion{Level: psaapi.LevelRestricted, Version: psaapi.LatestVersion()}

// verify evaluates a hardened template with the Pod Security Admission library, the
// code the API server runs. Volumes the site allows on purpose (hostPath under an
// allowed prefix, allowed volume types) are judged as emptyDir volumes, so that every
// other check still applies to them and to the rest of the pod.
func (h *Hardener) verify(t podTemplate, excepted []int) field.List {
	specPath := t.at("spec")
	spec, err := podSpecOf(lookup(t.node, "spec"))
	if err != nil {
		return field.List{field.Errorf(specPath.String(), "cannot be checked against Pod Security: %v", err)}
	}
	for _, i := range excepted {
		if i < len(spec.Volumes) {
			spec.Volumes[i].VolumeSource = corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}
		}
	}
	md := lookup(t.node, "metadata")
	meta := &metav1.ObjectMeta{
		Name:        str(lookup(md, "name")),
		Labels:      stringMap(lookup(md, "labels")),
		Annotations: stringMap(lookup(md, "annotations")),
	}
	agg := policy.AggregateCheckResults(h.evaluator.EvaluatePod(restrictedLatest, meta, spec))
	if agg.Allowed {
		return nil
	}
	reasons := make([]string, len(agg.ForbiddenReasons))
	for i, r := range agg.ForbiddenReasons {
		reasons[i] = r
		if d := agg.ForbiddenDetails[i]; d != "" {
			reasons[i] += " (" + d + ")"
		}
	}
	return field.List{field.Errorf(specPath.String(), "would be rejected by Pod Security %q: %s",
		restrictedLatest.String(), strings.Join(reasons, ", "))}
}

// podSpecOf converts a pod spec node to the API type through JSON, as the API server
// would read it.
func podSpecOf(n *yaml.Node) (*corev1.PodSpec, error) {
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	spec := &corev1.PodSpec{}
	if err := json.Unmarshal(b, spec); err != nil {
		return nil, err
	}
	return spec, nil
}

func stringMap(n *yaml.Node) map[string]string {
	if !isMap(n) {
		return nil
	}
	out := make(map[string]string, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		out[n.Content[i].Value] = str(n.Content[i+1])
	}
	return out
}
