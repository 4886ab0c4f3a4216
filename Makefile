# Switchboard — two commands on a fresh machine:
#   make run    builds and starts `switchboard dev --demo` (private PostgreSQL, sample tenant, demo traffic)
#   make test   runs every test, installing what is missing first
#
# Tools are pinned and built into bin/ (git-ignored); a tool already there at its version
# is not built again.

SHELL := /bin/bash
GO    ?= go
BIN   := $(CURDIR)/bin
export PATH := $(BIN):$(PATH)

BUF_VERSION                  := v1.75.0
PROTOC_GEN_GO_VERSION        := v1.36.12
PROTOC_GEN_CONNECT_GO_VERSION := v1.21.1
CONTROLLER_TOOLS_VERSION     := v0.23.0
HELM_VERSION                 := v3.22.0
# v5.8.3 needs Go 1.27.
KUSTOMIZE_VERSION            := v5.8.2

TOOLS := $(BIN)/.buf-$(BUF_VERSION) \
         $(BIN)/.protoc-gen-go-$(PROTOC_GEN_GO_VERSION) \
         $(BIN)/.protoc-gen-connect-go-$(PROTOC_GEN_CONNECT_GO_VERSION) \
         $(BIN)/.controller-gen-$(CONTROLLER_TOOLS_VERSION) \
         $(BIN)/.helm-$(HELM_VERSION) \
         $(BIN)/.kustomize-$(KUSTOMIZE_VERSION)

.PHONY: fuzz console console-deps chromium run test build generate manifests envtest lint tools postgres prometheus-tools bench bench-supervision bench-board bench-reports bench-console bench-flood crash soak clean help

help:
	@echo "make run       start Switchboard with a private PostgreSQL and the sample tenant (demo traffic on)"
	@echo "make test      run every test (installs PostgreSQL and the pinned tools when missing)"
	@echo "make generate  regenerate the protobuf Go code and the API types' deepcopy code"
	@echo "make manifests regenerate the CRDs and the operator's ClusterRole (config/, and their copies in the Helm chart)"
	@echo "make fuzz      run every fuzz target for FUZZTIME (default 5m) each; FUZZ=<part of a name> for some"
	@echo "make bench     run the message throughput and latency benchmark"
	@echo "make bench-supervision  run the supervision benchmark: watch fan-out, all-chats search, export"
	@echo "make bench-board  time the board's evaluation by the embedded engine for a 200-agent tenant"
	@echo "make bench-reports  run the reports benchmark: every report over 1,000,000 stored conversations"
	@echo "make bench-console  time 200 visitor messages (5/s) until each appears in a watching supervisor's browser"
	@echo "make bench-flood  measure one tenant's chat latency alone and while another tenant floods far above its limits"
	@echo "make crash     the crash drills at length: KILLS=50 SIGKILLs of serve, OUTAGES=10 PostgreSQL crashes, under chat load"
	@echo "make soak      run serve for 30 minutes at steady load and check that memory, goroutines and connections stay flat"

run: postgres build
	$(BIN)/switchboard dev --demo

build: console
	$(GO) build -o $(BIN)/switchboard ./cmd/switchboard

test: postgres prometheus-tools tools envtest console chromium
	$(GO) vet ./...
	cd $(CONSOLE) && npm test
	KUBEBUILDER_ASSETS=$(BIN)/k8s $(GO) test -count=1 -timeout 30m ./...
	FUZZ_FRESH_CACHE=1 FUZZTIME=$(TEST_FUZZTIME) FUZZTIME_FuzzEveryRequest=$(TEST_FUZZTIME_REQUESTS) hack/fuzz.sh

# Every fuzz target (request validators, the CSV export, the YAML loader, PromQL scoping)
# runs TEST_FUZZTIME in `make test` and FUZZTIME in `make fuzz`; `make fuzz FUZZ=Scoped`
# fuzzes only the targets whose name contains Scoped.
TEST_FUZZTIME ?= 10s
# FuzzEveryRequest replays its 600 seeds against a real server (about 30 s) before it fuzzes.
TEST_FUZZTIME_REQUESTS ?= 75s
FUZZTIME      ?= 5m
fuzz:
	FUZZTIME=$(FUZZTIME) hack/fuzz.sh $(FUZZ)

# The kube-apiserver and etcd that envtest runs, built from the Go module proxy into
# bin/k8s (see hack/envtest.sh); about 7 minutes the first time, nothing after.
envtest:
	hack/envtest.sh

bench: postgres build
	$(BIN)/switchboard bench

bench-supervision: postgres build
	$(BIN)/switchboard bench supervision

# The board's evaluation from the embedded engine, for a tenant with 200 agents.
bench-board:
	$(GO) test ./services/board -run '^$$' -bench BoardEmbedded -benchtime 20x

bench-reports: postgres build
	$(BIN)/switchboard bench reports

# A victim tenant's send-to-delivery latency alone, while another tenant floods (from a
# niced process of its own) far above its limits, and alone again.
bench-flood: postgres build
	$(BIN)/switchboard bench flood

# The time from a visitor's message to its text in the browser of a supervisor watching the
# chat (Chromium driven by services/console/e2e/latency.mjs), over 200 messages at 5/s.
bench-console: postgres console chromium
	$(GO) test ./services/console/browser -run '^$$' -bench SupervisorBrowserLatency -benchtime 1x -timeout 10m

# The crash drills of cmd/switchboard (a few faults each in make test) at length: serve
# SIGKILLed KILLS times, PostgreSQL crashed OUTAGES times for OUTAGE each, under steady chat
# load, then every acknowledged message and every stream audited. SEED replays a schedule.
KILLS   ?= 50
OUTAGES ?= 10
OUTAGE  ?= 5s
crash: postgres
	SWITCHBOARD_CRASH_KILLS=$(KILLS) SWITCHBOARD_CRASH_OUTAGES=$(OUTAGES) SWITCHBOARD_CRASH_OUTAGE=$(OUTAGE) \
	$(if $(SEED),SWITCHBOARD_CRASH_SEED=$(SEED)) $(GO) test -count=1 -timeout 90m -v -run Crash ./cmd/switchboard

# Thirty minutes of steady load on `serve`, run as a child process, with its memory,
# goroutines, files and connections sampled every 10s and judged flat or not (not part of
# `make test`). The samples, the curves and the server's log land in $(SOAK_DIR).
SOAK_DIR ?= .data/soak
soak: postgres build
	mkdir -p $(SOAK_DIR)
	$(BIN)/switchboard bench soak --csv $(SOAK_DIR)/samples.csv --png $(SOAK_DIR)/curves.png --serve-log $(SOAK_DIR)/serve.log

generate: tools console-deps
	$(BIN)/buf generate
	$(BIN)/controller-gen object paths=./api/v1alpha1/...

# CRDs into config/crd/bases and the operator's ClusterRole (from the RBAC markers in
# controllers/) into config/rbac, then both into the Helm chart, which ships its own copies
# (charts/ tests fail when they drift).
manifests: tools
	$(BIN)/controller-gen crd paths=./api/v1alpha1/... output:crd:artifacts:config=config/crd/bases
	$(if $(wildcard controllers/*.go),$(BIN)/controller-gen rbac:roleName=switchboard-operator paths=./controllers/... output:rbac:artifacts:config=config/rbac)
	rm -f charts/switchboard/crds/*.yaml
	cp config/crd/bases/*.yaml charts/switchboard/crds/
	cp config/rbac/role.yaml charts/switchboard/files/operator-role.yaml

lint: tools
	$(BIN)/buf lint

tools: $(TOOLS)

$(BIN)/.buf-$(BUF_VERSION):
	GOBIN=$(BIN) $(GO) install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
	@rm -f $(BIN)/.buf-* && touch $@

$(BIN)/.protoc-gen-go-$(PROTOC_GEN_GO_VERSION):
	GOBIN=$(BIN) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	@rm -f $(BIN)/.protoc-gen-go-* && touch $@

$(BIN)/.controller-gen-$(CONTROLLER_TOOLS_VERSION):
	GOBIN=$(BIN) $(GO) install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)
	@rm -f $(BIN)/.controller-gen-* && touch $@

$(BIN)/.helm-$(HELM_VERSION):
	GOBIN=$(BIN) $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	@rm -f $(BIN)/.helm-* && touch $@

$(BIN)/.kustomize-$(KUSTOMIZE_VERSION):
	GOBIN=$(BIN) $(GO) install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
	@rm -f $(BIN)/.kustomize-* && touch $@

$(BIN)/.protoc-gen-connect-go-$(PROTOC_GEN_CONNECT_GO_VERSION):
	GOBIN=$(BIN) $(GO) install connectrpc.com/connect/cmd/protoc-gen-connect-go@$(PROTOC_GEN_CONNECT_GO_VERSION)
	@rm -f $(BIN)/.protoc-gen-connect-go-* && touch $@

# PostgreSQL's server binaries (initdb, pg_ctl, postgres) from Debian, when missing.
# Switchboard starts its own private cluster from them; nothing runs as a system service.
postgres:
	@if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; else \
		echo "installing PostgreSQL (Debian package postgresql)"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql; \
		if command -v systemctl >/dev/null 2>&1; then systemctl disable --now postgresql >/dev/null 2>&1 || true; fi; \
	fi

# Prometheus, promtool and Alertmanager from Debian, when missing: the board's test reads
# a real prometheus, rules are checked with promtool, and the end-to-end test
# (services/e2e) runs Prometheus and Alertmanager. Nothing runs as a system service.
prometheus-tools:
	@if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 && command -v prometheus-alertmanager >/dev/null 2>&1; then :; else \
		echo "installing Prometheus (Debian packages prometheus, prometheus-alertmanager)"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus prometheus-alertmanager; \
		if command -v systemctl >/dev/null 2>&1; then systemctl disable --now prometheus prometheus-alertmanager prometheus-node-exporter >/dev/null 2>&1 || true; fi; \
	fi

clean:
	rm -rf $(BIN) .data

# The web console (services/console): npm packages from its package-lock.json, then Vite's
# build into services/console/dist/app, which the binary embeds. Both are skipped when
# nothing they read changed.
CONSOLE     := services/console
CONSOLE_SRC := $(shell find $(CONSOLE)/src $(CONSOLE)/public -type f 2>/dev/null) \
               $(addprefix $(CONSOLE)/,index.html widget.html vite.config.ts tsconfig.json package.json)

console-deps: $(CONSOLE)/node_modules/.package-lock.json

$(CONSOLE)/node_modules/.package-lock.json: $(CONSOLE)/package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "installing Node.js and npm (Debian packages nodejs, npm)"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm; \
	fi
	cd $(CONSOLE) && npm ci --no-audit --no-fund
	@touch $@

console: $(CONSOLE)/dist/app/index.html

$(CONSOLE)/dist/app/index.html: $(CONSOLE)/node_modules/.package-lock.json $(CONSOLE_SRC)
	cd $(CONSOLE) && npm run build

# Debian's Chromium, which the console's browser tests drive, when missing.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "installing Chromium (Debian package chromium)"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; \
	fi
