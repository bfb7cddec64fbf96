# ksguard — admission webhook and policy guard for KubeSphere member clusters.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c

GO      ?= go
BIN     ?= bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
# Fuzz time per target for `make fuzz`.
FUZZTIME ?= 30s

.PHONY: all
all: build

.PHONY: build
build: ## Build bin/ksguard.
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ksguard ./cmd/webhook

# A CA and a serving certificate for local runs (gitignored, under bin/),
# written by the same Go code as the self-managed TLS mode (serve --tls-secret).
CERTS_DIR   ?= $(BIN)/certs
CERTS_HOSTS ?= localhost 127.0.0.1

.PHONY: certs
certs: build ## Write a CA and a serving certificate to CERTS_DIR (tls.crt, tls.key, ca.crt) for CERTS_HOSTS.
	$(BIN)/ksguard certs --dir $(CERTS_DIR) $(addprefix --host ,$(CERTS_HOSTS))

IMAGE ?= ksguard:$(VERSION)

.PHONY: docker-build
docker-build: ## Build the container image IMAGE (needs a Docker engine).
	docker build --build-arg VERSION=$(VERSION) -t $(IMAGE) .

# The differential tests against KubeSphere's own configuration loaders: one
# module per KubeSphere version, because each pins its own viper.
PARITY_MODULES := test/parity/ks3 test/parity/ks4

.PHONY: test
test: lint envtest helm parity ## Lint, build the Kubernetes test binaries and helm if missing, run every test (unit, Rego, fuzz seeds, parity, e2e, chart).
	KUBEBUILDER_ASSETS=$(abspath $(K8S_BIN)) HELM=$(abspath $(HELM)) $(GO) test -count=1 ./...

.PHONY: parity
parity: ## Run the differential tests: ksguard's decisions against KubeSphere v3.4.1's and v4.1.3's own loaders (corpus and fuzz seeds).
	for m in $(PARITY_MODULES); do \
	  out=$$(cd $$m && $(GO) test -count=1 -v -run 'TestParity|FuzzParity' . 2>&1) || { echo "$$out"; exit 1; }; \
	  echo "$$out" | grep -E 'loader:|over-denied|^ok'; \
	done

.PHONY: e2e
e2e: envtest ## Run only the end-to-end tests (ksguard serve behind a real kube-apiserver and etcd).
	KUBEBUILDER_ASSETS=$(abspath $(K8S_BIN)) $(GO) test -count=1 -v ./test/e2e/

.PHONY: demo
demo: build envtest ## Show ksguard's main job on this machine: local API server, webhook, drift refused, value mutated.
	@echo "demo: binaries are built; starting the demo"
	$(GO) run ./test/demo $(DEMO_ARGS)

.PHONY: lint
lint: ## gofmt, go vet, and ksguard fmt --check on the Rego policies.
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run ./cmd/webhook fmt --check policies examples
	cd test/certmanager && $(GO) vet ./...
	for m in $(PARITY_MODULES); do (cd $$m && $(GO) vet ./...); done

.PHONY: rego-test
rego-test: build ## Run only the Rego policy tests (ksguard test, with coverage) and the example suite (ksguard verify).
	$(BIN)/ksguard test -v
	$(BIN)/ksguard test --coverage --threshold 95 examples/my-policies
	$(BIN)/ksguard verify examples/my-policies-suite.yaml

.PHONY: fuzz
fuzz: ## Fuzz the parser, the editor, the decision, the fast decoder and the parity with KubeSphere's loaders for FUZZTIME each.
	hack/fuzz.sh internal/validate FuzzParseDocument $(FUZZTIME)
	hack/fuzz.sh internal/validate FuzzSet $(FUZZTIME)
	hack/fuzz.sh internal/validate FuzzDecide $(FUZZTIME)
	hack/fuzz.sh internal/validate FuzzDecodeFast $(FUZZTIME)
	hack/fuzz.sh internal/validate FuzzConfigFromTree $(FUZZTIME)
	for m in $(PARITY_MODULES); do hack/fuzz.sh $$m FuzzParity $(FUZZTIME) -fuzzminimizetime 3s || exit 1; done

.PHONY: bench
bench: ## Run the decision benchmarks.
	$(GO) test -run '^$$' -bench . -benchmem ./internal/validate/

# The load harness (test/load): the same writes through a real kube-apiserver
# with no webhook, a no-op webhook, ksguard serve and opa run --server, in
# interleaved rounds, then straight to each server. LOAD_ARGS: its flags
# (go run ./test/load -h). OPA is built once from the module proxy, at the
# version go.mod requires; without it the run leaves OPA out.
OPA     ?= $(BIN)/tools/opa
OPA_VERSION ?= $(shell $(GO) list -m -f '{{.Version}}' github.com/open-policy-agent/opa)

.PHONY: bench-load
bench-load: envtest helm ## Run the side-by-side load harness (no webhook, no-op, ksguard, OPA) and print its tables.
	test -x $(OPA) || GOBIN=$(abspath $(dir $(OPA))) $(GO) install github.com/open-policy-agent/opa@$(OPA_VERSION) || echo "bench-load: opa could not be built; running without it"
	KUBEBUILDER_ASSETS=$(abspath $(K8S_BIN)) HELM=$(abspath $(HELM)) OPA=$(abspath $(OPA)) $(GO) run ./test/load $(LOAD_ARGS)

# The real Kubernetes components for the end-to-end tests and the demo, built from the Go
# module proxy (nothing else can be downloaded): kube-apiserver and kubectl
# v1.37.1, etcd v3.6.x. What exists is not rebuilt; with a warm Go build cache
# a rebuild takes seconds, cold about six minutes.
K8S_BIN ?= $(BIN)/k8s

# Helm, built from the Go module proxy (no release binaries can be downloaded
# here). Pinned: @latest resolves to an older version on this proxy.
HELM_VERSION ?= v3.22.0
HELM         ?= $(BIN)/tools/helm

.PHONY: helm
helm: $(HELM) ## Build helm into bin/tools (once).
# Stamped with the Kubernetes version helm was built against, as Helm's own
# release builds are (its Makefile's LDFLAGS): a source build otherwise
# believes it talks to Kubernetes 1.20 and refuses the chart's kubeVersion.
$(HELM):
	gomod=$$($(GO) mod download -json helm.sh/helm/v3@$(HELM_VERSION) | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p'); \
	minor=$$(sed -n 's/^[[:space:]]*k8s.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$$gomod"); \
	test -n "$$minor" || { echo "cannot read helm $(HELM_VERSION)'s client-go version from $$gomod"; exit 1; }; \
	GOBIN=$(abspath $(dir $(HELM))) $(GO) install -ldflags "\
	  -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$$minor \
	  -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$$minor" \
	  helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

.PHONY: chart-test
chart-test: envtest helm ## Run only the chart tests (helm lint/template, apply, cert-manager, self-managed TLS).
	KUBEBUILDER_ASSETS=$(abspath $(K8S_BIN)) HELM=$(abspath $(HELM)) $(GO) test -count=1 -v ./test/chart/

.PHONY: envtest
envtest: ## Build kube-apiserver, kubectl and etcd into bin/k8s (for KUBEBUILDER_ASSETS).
	hack/build-k8s-binaries.sh $(K8S_BIN)

.PHONY: clean
clean:
	rm -rf $(BIN)/ksguard

.PHONY: help
help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'
