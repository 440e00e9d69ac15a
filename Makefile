# lunary-wasm: `make demo` (the demo against the local collector) and `make test`
# (every test layer). `make pkg` builds the npm package into pkg/.
SHELL := /bin/bash
.DEFAULT_GOAL := help

WASM_TARGET := wasm32-unknown-unknown
WASM_BUILD := target/$(WASM_TARGET)/release/lunary_wasm.wasm
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
# The features rustc enables for wasm32 by default; wasm-opt must accept them.
WASM_OPT_FLAGS := -Oz --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
	--enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue \
	--strip-debug --strip-producers
# The browser engines the wasm-bindgen tests run in, one after the other:
# `make test ENGINES=chromium` runs only Chromium.
ENGINES ?= chromium firefox webkit
# Per engine, the test runner's environment: the one WebDriver variable of that engine, the
# others unset (the runner would otherwise pick from them, or from PATH). WebKitGTK needs a
# display: its run goes under Xvfb. $$(command -v …) is read when the recipe runs, after
# `make tools` installed geckodriver.
WASM_TEST_ENV = CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner WASM_BINDGEN_TEST_TIMEOUT=120
WASM_TEST_ENV_chromium = env -u GECKODRIVER -u SAFARIDRIVER $(WASM_TEST_ENV) \
	CHROMEDRIVER=/usr/bin/chromedriver
WASM_TEST_ENV_firefox = env -u CHROMEDRIVER -u SAFARIDRIVER $(WASM_TEST_ENV) \
	GECKODRIVER=$$(command -v geckodriver)
WASM_TEST_ENV_webkit = xvfb-run -a env -u CHROMEDRIVER -u GECKODRIVER $(WASM_TEST_ENV) \
	SAFARIDRIVER=/usr/bin/WebKitWebDriver

check_engines = $(if $(filter-out chromium firefox webkit,$(ENGINES)),$(error ENGINES: unknown engine \
	"$(filter-out chromium firefox webkit,$(ENGINES))"; the engines are chromium firefox webkit))

.PHONY: help demo demo-app test tools pkg lint test-native test-wasm test-e2e test-demo test-types bench clean

help:
	@echo "make demo   build and run the demo against the local collector"
	@echo "make test   every test layer (installs what it needs first)"
	@echo "make pkg    build the npm package into pkg/"

# The demo: www/ (a chat app using the package, built with Vite) served by the collector at
# /demo/, its inspector at /inspector/, both side by side at the one URL printed.
# DEMO_PORT=4000 make demo if 3333 is taken; the events are kept in $(DEMO_DB).
DEMO_PORT ?= 3333
DEMO_DB ?= target/demo.db

demo: demo-app
	cargo build -q -p lunary-collector
	@echo "make demo: the chat app and the inspector of what it sends, side by side at this URL (Ctrl-C stops):"
	@target/debug/lunary-collector --port $(DEMO_PORT) --db $(DEMO_DB) --demo-dir www/dist

# www/: npm ci when its lock changed (lunary-wasm is linked from pkg/), then vite build.
demo-app: pkg
	@cd www && if [ ! -f node_modules/.install-stamp ] || [ package-lock.json -nt node_modules/.install-stamp ] \
		|| [ package.json -nt node_modules/.install-stamp ]; then \
		echo "www: npm ci" && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.install-stamp; fi
	cd www && npm run --silent build -- --logLevel warn
	@echo "www/dist: built ($$(du -sk www/dist | cut -f1) KiB)"

tools:
	@scripts/install-tools

pkg: tools
	cargo build -p lunary-wasm --target $(WASM_TARGET) --release
	rm -rf pkg && mkdir -p pkg
	wasm-bindgen --target web --weak-refs --out-dir pkg --out-name lunary_wasm $(WASM_BUILD)
	node_modules/.bin/wasm-opt $(WASM_OPT_FLAGS) pkg/lunary_wasm_bg.wasm -o pkg/lunary_wasm_bg.wasm
	@# The generated glue is shipped minified: nobody reads it, every page downloads it.
	node_modules/.bin/esbuild pkg/lunary_wasm.js --minify --format=esm --log-level=warning \
		--outfile=pkg/lunary_wasm.js --allow-overwrite
	rm -f pkg/lunary_wasm_bg.wasm.d.ts
	cp js/index.js js/index.d.ts js/README.md pkg/
	sed 's/@VERSION@/$(VERSION)/' js/package.json > pkg/package.json
	@printf 'pkg/: wasm %s bytes, wasm+glue+entry %s bytes gzip -9\n' \
		"$$(wc -c < pkg/lunary_wasm_bg.wasm)" \
		"$$(cat pkg/lunary_wasm_bg.wasm pkg/lunary_wasm.js pkg/index.js pkg/snippets/*/js/*.js | gzip -9 | wc -c)"

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	@# The package build is no_std; the wasm-bindgen tests link std (their harness needs it).
	cargo clippy -p lunary-wasm --target $(WASM_TARGET) --lib -- -D warnings
	cargo clippy -p lunary-wasm --target $(WASM_TARGET) --all-targets --features std -- -D warnings

test: tools lint test-native test-wasm test-e2e test-demo test-types

test-native:
	cargo test --workspace

# Every engine of $(ENGINES) is run, each next to its own collector, even after one fails;
# the target fails if any did, and says which.
define wasm_test_engine
echo "test-wasm: $(1)"; start=$$SECONDS; \
if scripts/with-collector $(WASM_TEST_ENV_$(1)) \
	cargo test -p lunary-wasm --target $(WASM_TARGET) --features std --test browser; \
then echo "test-wasm: $(1) passed ($$((SECONDS - start)) s)"; \
else echo "test-wasm: $(1) FAILED ($$((SECONDS - start)) s)"; failed="$$failed $(1)"; fi;
endef

test-wasm: tools
	$(call check_engines)
	@failed=""; $(foreach engine,$(ENGINES),$(call wasm_test_engine,$(engine))) \
	if [ -n "$$failed" ]; then echo "test-wasm: failed in:$$failed"; exit 1; fi; \
	echo "test-wasm: passed in $(ENGINES)"

# Every e2e file, each scenario in every engine of $(ENGINES), one browser at a time.
test-e2e: pkg
	$(call check_engines)
	cargo build -q -p lunary-collector
	ENGINES="$(ENGINES)" node --test --test-concurrency=1 tests/e2e/

# The demo's production build, then the demo as a person uses it, in each engine of
# $(ENGINES), against a collector serving it: `make test-demo ENGINES=firefox` runs one.
test-demo: demo-app
	$(call check_engines)
	cargo build -q -p lunary-collector
	ENGINES="$(ENGINES)" node --test --test-concurrency=1 tests/demo/

# The package's types as a strict TypeScript app sees them (tests/types/usage.ts).
test-types: pkg
	node_modules/.bin/tsc -p tests/types/tsconfig.json --strict --noEmit
	@echo "test-types: tests/types/usage.ts compiles, and every call it expects to be refused is"

# lunary-wasm side by side with lunary-js: size, cost per call, a burst, start-up
# (bench/README.md). Not part of make test; takes a minute or two.
bench: pkg
	cargo build -q -p lunary-collector
	bench/setup.sh
	WASM_OPT_FLAGS="$(WASM_OPT_FLAGS)" node bench/run.mjs

clean:
	rm -rf pkg target
