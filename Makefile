# The two commands of the README: `make demo` and `make test`.
# Both set up everything they need on a fresh Debian machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

AXE := .ci/npm/node_modules/axe-core/axe.min.js
LIGHTHOUSE := bench/npm/node_modules/lighthouse/cli/index.js

.PHONY: demo test lint check-pg browser messages bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/homeward demo --serve

browser:
	@sh .ci/install-browser

# Browser-side test tools (axe-core), pinned in .ci/npm/package-lock.json.
$(AXE): .ci/npm/package.json
	cd .ci/npm && npm ci --no-audit --no-fund --silent
	touch $(AXE)

lint: $(STAMP)
	$(BIN)/ruff check server tests bench
	$(BIN)/ruff format --check server tests bench
	$(BIN)/mypy

test: $(STAMP) browser $(AXE) lint
	$(BIN)/homeward messages check
	HOMEWARD_TEST_DB=sqlite $(BIN)/python -m pytest
	HOMEWARD_TEST_DB=postgres $(BIN)/python -m pytest

messages: $(STAMP)
	$(BIN)/homeward messages update

# Lighthouse for the benchmarks only, pinned in bench/npm/package-lock.json.
# It drives /usr/bin/chromium: no install script runs, no browser is fetched.
$(LIGHTHOUSE): bench/npm/package.json bench/npm/package-lock.json
	cd bench/npm && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --silent --ignore-scripts
	touch $(LIGHTHOUSE)

bench: $(STAMP) browser $(LIGHTHOUSE)
	$(BIN)/python -m bench.run
