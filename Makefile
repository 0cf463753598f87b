# AuditLens — the two commands a newcomer needs: `make run` and `make test`.
# Both install what is missing on a fresh Debian/Ubuntu machine that has the Rust toolchain, git, python3 and node.

SHELL := /bin/bash
CARGO ?= cargo
BIN := target/debug/auditlens
DEMO := demo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test deps build bench fmt clean-demo

## System packages the build and the tests need (C compiler for bundled SQLite; ripgrep for the benchmark baseline).
deps:
	@missing=""; \
	command -v cc >/dev/null || missing="$$missing build-essential"; \
	command -v rg >/dev/null || missing="$$missing ripgrep"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	$(CARGO) build --locked

## The main job: a demo key, demo archives sealed from the bundled real logs, verified, and the report printed.
run: build
	@mkdir -p $(DEMO)/keys
	@[ -f $(DEMO)/keys/demo-ops.key ] || $(BIN) keygen --name demo-ops --out $(DEMO)/keys
	rm -f $(DEMO)/*.zip
	$(BIN) seal --key $(DEMO)/keys/demo-ops.key --origin demo.auditlens.dev/prod/k8s-audit --out $(DEMO)/k8s-1.zip \
	  tests/fixtures/logs/k8s_audit/audit2rbac/demo.log
	$(BIN) seal --key $(DEMO)/keys/demo-ops.key --origin demo.auditlens.dev/prod/k8s-audit --prev $(DEMO)/k8s-1.zip \
	  --out $(DEMO)/k8s-2.zip tests/fixtures/logs/k8s_audit/falco_trace_files/create_deployment.json \
	  tests/fixtures/logs/k8s_audit/falco_trace_files/exec_pod.json
	$(BIN) seal --key $(DEMO)/keys/demo-ops.key --origin demo.auditlens.dev/aws/cloudtrail --out $(DEMO)/cloudtrail-1.zip \
	  tests/fixtures/logs/aws_cloudtrail/awsdocs/awsdocs_examples_Records.json
	$(BIN) verify --trust $(DEMO)/keys/demo-ops.pub $(DEMO)/k8s-1.zip $(DEMO)/k8s-2.zip $(DEMO)/cloudtrail-1.zip

## Every test: unit, integration (real archives, real SQLite files), the independent verifier, the CLI contract.
test: deps
	$(CARGO) test --locked --workspace

## Benchmarks (release build): seal/verify of 1,000,000 generated events against plain SHA-256 over the same bytes.
bench: deps
	$(CARGO) run --locked --release -- bench

fmt:
	$(CARGO) fmt --all

clean-demo:
	rm -rf $(DEMO)
