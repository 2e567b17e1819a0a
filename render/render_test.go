package render_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/peruser-dev/peruser/api/v1alpha1"
	"github.com/peruser-dev/peruser/internal/env"
	"github.com/peruser-dev/peruser/internal/sitegen"
	"github.com/peruser-dev/peruser/render"
)

func TestReadInputs(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "registry.json"), []byte(sitegen.DockerConfig), 0o600))
	vars := map[string]string{"GOOD": sitegen.DockerConfig, "BAD": `{"auths": oops-secret}`,
		"ARRAY": `["oops-secret"]`, "NOAUTHS": `{"oops-secret": {}}`, "EMPTY": `{"auths": {}}`}
	e := env.Env{Dir: dir, Getenv: func(k string) string { return vars[k] }}
	tests := []struct {
		name    string
		reg     *v1alpha1.Registry
		want    string
		wantErr string
	}{
		{"no registry", nil, "", ""},
		{"file relative to Dir", &v1alpha1.Registry{DockerConfigJSONFile: "registry.json"}, sitegen.DockerConfig, ""},
		{"absolute file", &v1alpha1.Registry{DockerConfigJSONFile: filepath.Join(dir, "registry.json")}, sitegen.DockerConfig, ""},
		{"env", &v1alpha1.Registry{DockerConfigJSONEnv: "GOOD"}, sitegen.DockerConfig, ""},
		{"external secret reads nothing", &v1alpha1.Registry{ExternalSecret: &v1alpha1.ExternalSecret{Key: "k"}}, "", ""},
		{"missing file", &v1alpha1.Registry{DockerConfigJSONFile: "nope.json"}, "",
			"spec.registry.dockerConfigJSONFile: cannot read " + filepath.Join(dir, "nope.json") + ": no such file or directory"},
		{"unset env", &v1alpha1.Registry{DockerConfigJSONEnv: "UNSET"}, "",
			"spec.registry.dockerConfigJSONEnv: environment variable UNSET is not set or empty"},
		{"bad env content is not echoed", &v1alpha1.Registry{DockerConfigJSONEnv: "BAD"}, "",
			"spec.registry.dockerConfigJSONEnv: $BAD: not valid JSON (syntax error at byte 11)"},
		{"not an object", &v1alpha1.Registry{DockerConfigJSONEnv: "ARRAY"}, "",
			`spec.registry.dockerConfigJSONEnv: $ARRAY: not a docker config: expected a JSON object with an "auths" object`},
		{"no auths", &v1alpha1.Registry{DockerConfigJSONEnv: "NOAUTHS"}, "",
			`spec.registry.dockerConfigJSONEnv: $NOAUTHS: not a docker config: no "auths" object (expected {"auths": {"registry.example.edu": {"auth": "..."}}})`},
		{"empty auths", &v1alpha1.Registry{DockerConfigJSONEnv: "EMPTY"}, "",
			`spec.registry.dockerConfigJSONEnv: $EMPTY: not a docker config: "auths" is empty`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := &v1alpha1.Site{Spec: v1alpha1.SiteSpec{Registry: tt.reg}}
			in, err := render.ReadInputs(site, e)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Equal(t, tt.wantErr, err.Error())
				assert.NotContains(t, err.Error(), "oops-secret")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(in.DockerConfigJSON))
		})
	}
}

func TestWriteHasNoReaderAnnotations(t *testing.T) {
	e := env.Env{Dir: t.TempDir(), Getenv: func(string) string { return "" }}
	doc := strings.Replace(string(sitegen.OOD(3, "")), "spec:\n", "spec:\n  namespace: {podSecurity: baseline}\n", 1)
	objs := renderSite(t, []byte(doc), e)
	var b strings.Builder
	require.NoError(t, render.Write(&b, objs))
	out := b.String()
	assert.NotContains(t, out, "config.kubernetes.io")
	assert.Equal(t, len(objs)-1, strings.Count(out, "\n---\n"), "one document per object")
	assert.Contains(t, out, "pod-security.kubernetes.io/enforce: baseline")
}
