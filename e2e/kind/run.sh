#!/usr/bin/env bash
# Runs peruser's e2e suite on a throwaway kind cluster: creates the cluster from
# cluster.yaml, builds what the suite needs (`make e2e-cluster` builds krm-fn, the
# post-renderer, kustomize and Helm; kubectl comes from PATH or KUBECTL), runs the suite
# with the cluster's KUBECONFIG, and deletes the cluster, also when the suite fails.
# Needs Docker (or Podman) and Go; kind itself is installed with `go install` when it is
# not on PATH.
#
#   e2e/kind/run.sh                      # the bundled example site
#   KIND_NODE_IMAGE=kindest/node:v1.37.2 e2e/kind/run.sh
#   KEEP_CLUSTER=1 e2e/kind/run.sh       # leave the cluster up to look around
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cluster="${KIND_CLUSTER_NAME:-peruser-e2e}"
kind_version="${KIND_VERSION:-v0.33.0}"

kind="${KIND:-$(command -v kind || true)}"
if [ -z "$kind" ]; then
  GOBIN="$root/bin" go install "sigs.k8s.io/kind@$kind_version"
  kind="$root/bin/kind"
fi

kubeconfig="$(mktemp)"
cleanup() {
  if [ "${KEEP_CLUSTER:-0}" = 1 ]; then
    echo "kind cluster $cluster kept; KUBECONFIG=$kubeconfig" >&2
    return
  fi
  "$kind" delete cluster --name "$cluster" --kubeconfig "$kubeconfig" || true
  rm -f "$kubeconfig"
}
trap cleanup EXIT

image_args=()
if [ -n "${KIND_NODE_IMAGE:-}" ]; then
  image_args=(--image "$KIND_NODE_IMAGE")
fi
"$kind" create cluster --name "$cluster" --config "$here/cluster.yaml" \
  --kubeconfig "$kubeconfig" --wait 180s "${image_args[@]}"

# The same suite as `make test` runs on a local kube-apiserver; the kubeconfig switch makes
# it test this cluster instead and start nothing.
PERUSER_E2E_KUBECONFIG="$kubeconfig" make -C "$root" e2e-cluster
