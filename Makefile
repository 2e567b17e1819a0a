# peruser — build, test and benchmark entry points. The README's two commands are
# `make demo` and `make test`; everything they need is installed here with `go install`
# at pinned versions into ./bin (no download sites).

SHELL := /bin/bash
BIN   := $(CURDIR)/bin
GO    ?= go

KUSTOMIZE_VERSION := v5.8.2
HELM3_VERSION     := v3.22.0
HELM4_VERSION     := v4.3.1

KUSTOMIZE := $(BIN)/kustomize
HELM3     := $(BIN)/helm3/helm
HELM4     := $(BIN)/helm4/helm
# kube-apiserver, etcd and kubectl for the e2e suite (envtest's KUBEBUILDER_ASSETS).
CONTROLPLANE := $(BIN)/controlplane

# Tests find the real CLIs through these variables; PERUSER_REQUIRE_TOOLS=1 turns a
# missing tool into a test failure instead of a skip.
export KUSTOMIZE HELM3 HELM4
TEST_ENV := PERUSER_REQUIRE_TOOLS=1

.PHONY: all build demo test vet unit tools controlplane e2e e2e-cluster bench bench-shards bench-post-renderer fuzz fuzz-ci helm4-plugin helm4-plugin-dist clean

all: build

build: $(BIN)/krm-fn $(BIN)/post-renderer

# -buildvcs=auto overrides a GOFLAGS=-buildvcs=false in the environment, so that
# `version` names the commit (internal/buildinfo).
$(BIN)/krm-fn: FORCE
	CGO_ENABLED=0 $(GO) build -buildvcs=auto -o $@ ./cmd/krm-fn

$(BIN)/post-renderer: FORCE
	CGO_ENABLED=0 $(GO) build -buildvcs=auto -o $@ ./cmd/post-renderer

## helm4-plugin: the Helm 4 post-renderer plugin, ready for `helm plugin install plugins/helm4/peruser`.
## It builds bin/<os>-<arch>/post-renderer for this machine, the path platformCommand selects.
helm4-plugin:
	CGO_ENABLED=0 $(GO) build -o plugins/helm4/peruser/bin/$$($(GO) env GOOS)-$$($(GO) env GOARCH)/post-renderer ./cmd/post-renderer

## helm4-plugin-dist: dist/peruser-VERSION.tgz, the release archive of the Helm 4 plugin for
## linux/darwin × amd64/arm64 (deterministic; `helm plugin install FILE.tgz --verify=false`).
## The binaries stay in dist/.build so that a second run relinks only what changed.
helm4-plugin-dist:
	GO=$(GO) plugins/helm4/dist.sh dist linux/amd64 linux/arm64 darwin/amd64 darwin/arm64

FORCE:

$(KUSTOMIZE):
	GOBIN=$(BIN) $(GO) install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

$(HELM3):
	GOBIN=$(BIN)/helm3 $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM3_VERSION)

$(HELM4):
	GOBIN=$(BIN)/helm4 $(GO) install helm.sh/helm/v4/cmd/helm@$(HELM4_VERSION)

tools: $(KUSTOMIZE) $(HELM3) $(HELM4)

## controlplane: kube-apiserver, etcd and kubectl built from their Go modules at the versions
## pinned in e2e/controlplane/go.mod; minutes cold, seconds when the Go cache is warm.
controlplane:
	GO=$(GO) e2e/controlplane/build.sh $(CONTROLPLANE)

## demo: render the bundled example site through the real kustomize CLI.
## Only YAML reaches stdout (`make demo > out.yaml`): the build and its echo go to stderr.
demo:
	@$(MAKE) --no-print-directory build $(KUSTOMIZE) >&2
	@$(KUSTOMIZE) build --enable-alpha-plugins --enable-exec .

vet:
	$(GO) vet ./...

## unit: every test of the main module (golden files, real kustomize/helm/slapd).
unit: build tools
	$(TEST_ENV) $(GO) test -count=1 ./...

## e2e: the end-to-end suite (module e2e/) on a local kube-apiserver and etcd built from
## their Go modules.
e2e_run = cd e2e && $(GO) vet ./... && $(TEST_ENV) $(1) $(GO) test -count=1 ./...
e2e: build tools controlplane
	$(call e2e_run,KUBEBUILDER_ASSETS=$(CONTROLPLANE))

## e2e-cluster: the same suite on the cluster of PERUSER_E2E_KUBECONFIG (kind in CI,
## e2e/kind/run.sh); kubectl comes from PATH or KUBECTL. Starts nothing.
e2e-cluster: build tools
	@test -n "$(PERUSER_E2E_KUBECONFIG)" || { echo "set PERUSER_E2E_KUBECONFIG" >&2; exit 2; }
	$(call e2e_run,)

## test: everything — vet, unit, integration and end-to-end tests, and a bounded fuzz run.
test: vet unit e2e fuzz-ci

## bench: the performance targets (README, Performance), as ratios against in-run baselines.
bench: build tools
	$(GO) run ./internal/benchreport

## bench-shards: only the sharded path (one shard of a 10,000-user site vs the whole render,
## kustomize build of one shard folder).
bench-shards: build tools
	$(GO) run ./internal/benchreport -shards-only

## bench-post-renderer: BenchmarkPostRender10kDocs beside its kyaml passthrough baseline (target ≤ 1.5×).
bench-post-renderer:
	$(GO) test -run '^$$' -bench '10kDocs$$' -benchmem -count 3 ./harden/

## fuzz: explore each fuzz target for FUZZTIME (the regression corpora under testdata/fuzz
## run as ordinary tests in `make test`).
FUZZTIME ?= 60s
FUZZ_TARGETS := FuzzParse:./spec/ FuzzHardening:./spec/ FuzzParseSnapshot:./directory/ \
	FuzzResourceList:./krmfn/ FuzzStream:./harden/ FuzzStreamPieces:./harden/
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
	  echo "fuzz $${t%%:*} ($(FUZZTIME))"; \
	  $(GO) test -run '^$$' -fuzz "^$${t%%:*}$$" -fuzztime $(FUZZTIME) $${t#*:}; \
	done

## fuzz-ci: every fuzz target for FUZZ_CI_TIME each (6 × 20 s), so that CI finds a new
## crash on every run; `make test` and .ci/run call it. A crash fails the build and
## leaves its input under testdata/fuzz/ to commit as a regression case.
FUZZ_CI_TIME ?= 20s
fuzz-ci:
	$(MAKE) fuzz FUZZTIME=$(FUZZ_CI_TIME)

clean:
	rm -rf $(BIN) dist
