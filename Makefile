# AuditLens — the two commands a newcomer needs: `make run` and `make test`.
# Both install what is missing on a fresh Debian/Ubuntu machine that has the Rust toolchain, git, python3 and node.

SHELL := /bin/bash
CARGO ?= cargo
BIN := target/debug/auditlens
APP := target/debug/auditlens-app
DEMO := demo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test deps build bench bench-ui bench-open fmt check clean-demo app e2e ui-deps package package-test

## System packages the build and the tests need (C compiler for bundled SQLite; ripgrep for the benchmark baseline;
## the pyte terminal emulator, through which tests/it/hostile_text.rs shows every command's output), and the Python
## packages of the independent checks of the Parquet export (tests/independent/parquet_readback.py reads it back
## with DuckDB and embedded ClickHouse, chdb; about 300 MB downloaded once, 45 s measured here), and AWS's own
## CloudTrail digest validator (awscli, tests/independent/cloudtrail_awscli.py).
PY_CHECKS := duckdb==2.0.1 chdb==4.4.0 chdb-core==26.9.0 'cryptography>=42' awscli==1.45.11
deps:
	@missing=""; \
	command -v cc >/dev/null || missing="$$missing build-essential"; \
	command -v rg >/dev/null || missing="$$missing ripgrep"; \
	/usr/bin/python3 -c 'import pyte' 2>/dev/null || missing="$$missing python3-pyte"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@python3 -c 'import duckdb, chdb, cryptography, awscli' 2>/dev/null || { echo "installing: $(PY_CHECKS)"; \
	  python3 -m pip install --quiet --disable-pip-version-check $(PY_CHECKS) \
	  || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages $(PY_CHECKS); }

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
	$(MAKE) app
	rm -f $(DEMO)/demo.db $(DEMO)/demo.db-wal $(DEMO)/demo.db-shm
	$(APP) --db $(DEMO)/demo.db --trust $(DEMO)/keys/demo-ops.pub $(DEMO)/*.zip

## Every test: unit, integration (real archives, real SQLite files), the independent verifier, the CLI contract.
## The desktop app's tests too: its command layer (in the workspace run), the UI components (Vitest) and the app
## end to end (WebDriver under Xvfb). The app crate is built with the front end embedded, as `make app` builds it.
test: deps app check
	$(CARGO) test --locked --workspace --features auditlens-app/custom-protocol
	cd ui && npx vitest run
	$(MAKE) e2e

## System packages of the desktop app (WebKitGTK, Xvfb and WebKitWebDriver for the end-to-end tests; Python GTK 3
## and XTest for the real drag and drop of tests/e2e/drag_source.py; Chromium, unzip and poppler-utils to render an
## exported bundle's report.html to PNG and PDF and count its pages) and the UI's npm modules, exactly as locked in
## ui/package-lock.json. Node.js 20.19+ and npm must already be installed.
APP_PACKAGES := libwebkit2gtk-4.1-dev build-essential file libxdo-dev libssl-dev libayatana-appindicator3-dev \
  librsvg2-dev xvfb xauth webkit2gtk-driver python3-gi gir1.2-gtk-3.0 libxtst6 chromium unzip poppler-utils
ui-deps:
	@missing=""; \
	for p in $(APP_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 20.19 or newer"; exit 1; }
	@if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then \
	  cd ui && npm ci --no-audit --no-fund; \
	fi

## The desktop app with its front end embedded (Tauri's custom-protocol feature): target/debug/auditlens-app.
app: deps ui-deps
	cd ui && npm run build
	$(CARGO) build --locked -p auditlens-app --features custom-protocol

## The end-to-end tests alone: the app `make app` builds (no test build: the suite reaches into nothing, it drops
## files for real) driven by tauri-driver + WebKitWebDriver under Xvfb; screenshots in target/e2e-screenshots/.
e2e: app
	@command -v tauri-driver >/dev/null || [ -x "$$HOME/.cargo/bin/tauri-driver" ] || $(CARGO) install tauri-driver --locked
	rm -rf target/e2e-screenshots
	PATH="$$HOME/.cargo/bin:$$PATH" xvfb-run -a -s "-screen 0 1440x900x24" node --test --test-concurrency=1 tests/e2e/*.test.mjs

## The app's scrolling benchmark (not part of `make test`; figures in docs/benchmarks.md): 200,000 generated
## Kubernetes audit events sealed and imported with the CLI, then the frames the window draws while the results
## scroll at 100 and 1,000 rows/s, beside an idle window and a blank list scrolled the same way; End and a
## scrollbar jump to the middle. `make bench-ui EVENTS=N` for another count; target/bench-ui.json has the figures.
EVENTS ?= 200000
bench-ui: app
	$(CARGO) build --locked --release -p auditlens-cli
	@command -v tauri-driver >/dev/null || [ -x "$$HOME/.cargo/bin/tauri-driver" ] || $(CARGO) install tauri-driver --locked
	EVENTS=$(EVENTS) PATH="$$HOME/.cargo/bin:$$PATH" xvfb-run -a -s "-screen 0 1440x900x24" node tests/e2e/scroll.bench.mjs

## The app opening a big store until its Overview shows (issue 13: a 10M-event store in at most 2 s), beside a
## store of a few events, in the end-to-end environment (not part of `make test`; figures in docs/benchmarks.md).
## `make bench-open DB=PATH`; by default the store `auditlens bench --only store --events 10000000` builds.
bench-open: app
	$(CARGO) build --locked --release -p auditlens-cli
	@command -v tauri-driver >/dev/null || [ -x "$$HOME/.cargo/bin/tauri-driver" ] || $(CARGO) install tauri-driver --locked
	DB=$(DB) PATH="$$HOME/.cargo/bin:$$PATH" xvfb-run -a -s "-screen 0 1440x900x24" node tests/e2e/open.bench.mjs

## The installable package: target/release/bundle/deb/AuditLens_<version>_amd64.deb with the app
## (/usr/bin/auditlens-app, its desktop entry and icons) and the command line (/usr/bin/auditlens and its man page,
## docs/auditlens.1), both built in one release build (so they share every compiled dependency) and bundled by
## the Tauri CLI from the UI's npm modules, offline. The version is the workspace version of Cargo.toml.
## Measured here from no target/: 16 min 37 s (16 min 21 s release build, 2 cores shared with other builds; the
## .deb was 8.0 MiB; with the Parquet export in both programs it is 5.6 MiB recompressed with xz), docs/install.md.
package: deps ui-deps
	cd ui && npm run build
	$(CARGO) build --locked --release --workspace --bins --features auditlens-app/custom-protocol
	rm -rf target/release/bundle/deb
	ui/node_modules/.bin/tauri bundle --bundles deb --ci
	@# Tauri compresses the package with gzip; Debian's own packages use xz, which takes this one from 11.8 MB to
	@# 5.9 MB (measured here; the programs themselves are unchanged).
	deb=$$(ls target/release/bundle/deb/*.deb) && rm -rf target/release/bundle/deb/repack && \
	  dpkg-deb -R "$$deb" target/release/bundle/deb/repack && \
	  dpkg-deb -Zxz -z9 --root-owner-group --build target/release/bundle/deb/repack "$$deb" >/dev/null && \
	  rm -rf target/release/bundle/deb/repack
	@ls -l target/release/bundle/deb/*.deb

## The package checked as installed (tests/package/check_deb.sh): unpacked with dpkg -x into a scratch root, the
## installed CLI's --version, seal, verify and upgrade of a store of the previous release; the installed app driven
## by WebDriver under Xvfb (first screen, About box, upgraded and refused stores); a real dpkg install, upgrade and
## purge in a scratch root (dpkg --root) keeping the auditor's files; the size (< 10 MB). Not part of `make test`: its
## release build with LTO (16 min measured) would take `make test` from a fresh clone (about 19 min) past 30 min;
## run it before a release (docs/install.md).
package-test: package
	@command -v tauri-driver >/dev/null || [ -x "$$HOME/.cargo/bin/tauri-driver" ] || $(CARGO) install tauri-driver --locked
	tests/package/check_deb.sh

## Benchmarks (release build): seal/verify of 1,000,000 generated events against plain SHA-256 over the same bytes.
bench: deps
	$(CARGO) run --locked --release -- bench

fmt:
	$(CARGO) fmt --all

## Habits the machine enforces (part of `make test`), warnings are errors: Rust formatting, clippy over every crate
## and target (lints in the root Cargo.toml, [workspace.lints]), rustdoc, the UI's types (tsc) and its lint (ESLint).
check: app
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --workspace --all-targets --features auditlens-app/custom-protocol -- -D warnings
	RUSTDOCFLAGS='-D warnings' $(CARGO) doc --locked --no-deps --workspace
	cd ui && npx tsc --noEmit -p .
	cd ui && npm run lint

clean-demo:
	rm -rf $(DEMO)
