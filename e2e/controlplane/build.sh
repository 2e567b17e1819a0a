#!/usr/bin/env bash
# Builds kube-apiserver, kubectl and etcd from this module's pinned versions into $1 (default
# ../../bin/controlplane). Warm Go caches make this a matter of seconds: go build leaves an
# up-to-date binary alone. No -trimpath: the binaries are for this machine only and keeping
# full paths lets the build reuse the cache entries other builds on this machine made.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/../../bin/controlplane}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

# The version kube-apiserver and kubectl report; without it they say v0.0.0-master and kubectl
# warns about version skew. Keep in step with go.mod.
k8s_version=v1.37.2
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=37"
  ldflags+=" -X $pkg.gitTreeState=clean"
done

cd "$here"
# One go build for the three commands, so the packages they share compile once.
CGO_ENABLED=0 "${GO:-go}" build -ldflags "$ldflags" -o "$out/" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kubectl \
  ./cmd/etcd
