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

.PHONY: all build demo test vet unit tools controlplane e2e bench fuzz-corpus clean

all: build

build: $(BIN)/krm-fn

$(BIN)/krm-fn: FORCE
	CGO_ENABLED=0 $(GO) build -o $@ ./cmd/krm-fn

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
demo: build $(KUSTOMIZE)
	$(KUSTOMIZE) build --enable-alpha-plugins --enable-exec .

vet:
	$(GO) vet ./...

## unit: every test of the main module (golden files, real kustomize/helm/slapd).
unit: build tools
	$(TEST_ENV) $(GO) test -count=1 ./...

## e2e: the end-to-end suite (module e2e/) on a local kube-apiserver and etcd, or on the
## cluster of PERUSER_E2E_KUBECONFIG when set. -mod=mod: e2e/ replaces the main module with
## ../, so a new requirement in the main go.mod must not stop the suite.
e2e: build tools controlplane
	cd e2e && $(GO) vet -mod=mod ./...
	cd e2e && $(TEST_ENV) KUBEBUILDER_ASSETS=$(CONTROLPLANE) $(GO) test -mod=mod -count=1 ./...

## test: everything — vet, unit, integration and end-to-end tests.
test: vet unit e2e

## bench: the performance targets of DESIGN.md §7, as ratios against in-run baselines.
bench: build tools
	$(GO) run ./internal/benchreport

clean:
	rm -rf $(BIN)
