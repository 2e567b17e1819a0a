package generators_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"

	"github.com/peruser-dev/peruser/generators"
)

// TestSupplementalGroupsPolicyShape: the MutatingAdmissionPolicy decodes strictly into the
// v1 API type, mutates only pod creation in user namespaces that leave the field unset,
// and is left out when the site turns Strict off. The e2e suite checks that a real
// apiserver sets Strict with it.
func TestSupplementalGroupsPolicyShape(t *testing.T) {
	var p admissionregistrationv1.MutatingAdmissionPolicy
	var b admissionregistrationv1.MutatingAdmissionPolicyBinding
	for _, o := range renderSite(t, vapSite) {
		js, err := o.MarshalJSON()
		require.NoError(t, err)
		dec := json.NewDecoder(bytes.NewReader(js))
		dec.DisallowUnknownFields()
		switch o.GetKind() {
		case "MutatingAdmissionPolicy":
			require.NoError(t, dec.Decode(&p))
		case "MutatingAdmissionPolicyBinding":
			require.NoError(t, dec.Decode(&b))
		}
	}
	require.Equal(t, generators.SupplementalGroupsPolicy, p.Name)
	assert.Equal(t, generators.SupplementalGroupsPolicy, b.Spec.PolicyName)
	assert.Equal(t, admissionregistrationv1.Fail, *p.Spec.FailurePolicy)
	assert.Equal(t, admissionregistrationv1.NeverReinvocationPolicy, p.Spec.ReinvocationPolicy)
	require.Len(t, p.Spec.Mutations, 1)
	assert.Equal(t, admissionregistrationv1.PatchTypeApplyConfiguration, p.Spec.Mutations[0].PatchType)
	assert.Contains(t, p.Spec.Mutations[0].ApplyConfiguration.Expression, `supplementalGroupsPolicy: "Strict"`)
	require.Len(t, p.Spec.MatchConditions, 1)
	rules := p.Spec.MatchConstraints.ResourceRules
	require.Len(t, rules, 1)
	assert.Equal(t, []string{"pods"}, rules[0].Resources)
	assert.Equal(t, []admissionregistrationv1.OperationType{admissionregistrationv1.Create}, rules[0].Operations)

	off := `apiVersion: peruser.dev/v1alpha1
kind: Site
metadata: {name: no-strict}
spec:
  users: [{name: oakley, uid: 20001, gid: 20001}]
  admission: {validatingAdmissionPolicy: true, strictSupplementalGroups: false}
`
	for _, o := range renderSite(t, off) {
		assert.NotEqual(t, "MutatingAdmissionPolicy", o.GetKind())
	}
}
