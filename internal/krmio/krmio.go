// Package krmio is the one kyaml entry point of both KRM front-ends (krm-fn's function
// and the post-renderer's transformer): it reads a ResourceList, runs the front-end's
// processing and returns what kyaml writes, so that each front-end decides what reaches
// stdout.
package krmio

import (
	"bytes"
	"io"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"
)

// Execute reads the ResourceList on stdin (keeping the reader's annotations, so an
// orchestrator can place the items back), calls process on it and returns the
// ResourceList kyaml writes (framework.Execute). Nothing is written anywhere: output is
// held back so that a failure never leaves a partial stream. When process fails, err is
// its error and out holds the ResourceList as process left it (its items and any
// results it set); when the input cannot be read, out is empty.
func Execute(stdin io.Reader, process func(*framework.ResourceList) error) (out []byte, err error) {
	var buf bytes.Buffer
	rw := &kio.ByteReadWriter{Reader: stdin, Writer: &buf, KeepReaderAnnotations: true}
	err = framework.Execute(framework.ResourceListProcessorFunc(process), rw)
	return buf.Bytes(), err
}
