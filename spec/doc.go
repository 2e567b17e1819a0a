// Package spec loads a Site from YAML: it checks the document against the embedded JSON
// Schema, decodes it strictly into the v1alpha1 types, applies defaults and runs the
// semantic checks, and reports every problem with its field path, file and line.
package spec
