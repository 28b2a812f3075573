# The two commands of the README: `make demo` and `make test`.
# Both set up everything they need on a fresh Debian machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Every Python package, pinned with its hashes (`make lock` writes it).
LOCK := requirements.lock
UV_VERSION := 0.13.9

# The test suite's tools from npm (axe-core, ESLint, TypeScript), pinned in
# .ci/npm/package-lock.json.
NPM_STAMP := .ci/npm/node_modules/.installed
JS := .ci/npm/node_modules/.bin
LIGHTHOUSE := bench/npm/node_modules/lighthouse/cli/index.js

# Branch coverage of server/ over both databases that `make test` demands, in
# percent (docs/quality.md): raise it as tests are added, never lower it.
COVERAGE_FLOOR := 95

.PHONY: demo test lint check-pg browser caddy messages bench lock mutate

# Exactly the locked versions, each checked against its hash; then the
# project itself, with the locked setuptools and nothing fetched besides.
$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

# After changing the dependencies in pyproject.toml: pins already in the lock
# are kept; `make lock UPGRADE=1` moves every package to its newest release.
lock:
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip compile pyproject.toml .ci/build-requirements.in --extra test \
		--universal --python-version 3.11 --generate-hashes $(if $(UPGRADE),--upgrade) \
		--custom-compile-command "make lock" --quiet -o $(LOCK)

demo: $(STAMP)
	$(BIN)/homeward demo --serve

browser:
	@sh .ci/install-browser

# Caddy for the production set-up's test (tests/test_deploy_https.py).
caddy:
	@sh .ci/install-caddy

$(NPM_STAMP): .ci/npm/package.json .ci/npm/package-lock.json
	cd .ci/npm && npm ci --no-audit --no-fund --silent --ignore-scripts
	touch $(NPM_STAMP)

# Python: ruff and mypy. pwa/'s JavaScript: ESLint, and TypeScript checking
# the JSDoc types: the pages, the modules already fully typed (noImplicitAny
# too), then the service worker with its own library.
lint: $(STAMP) $(NPM_STAMP)
	$(BIN)/ruff check server tests bench
	$(BIN)/ruff format --check server tests bench
	$(BIN)/mypy
	$(JS)/eslint --config .ci/npm/eslint.config.mjs pwa
	$(JS)/tsc -p .ci/npm/tsconfig.json
	$(JS)/tsc -p .ci/npm/tsconfig.typed.json
	$(JS)/tsc -p .ci/npm/tsconfig.sw.json

# Both databases under coverage (live servers and CLI runs included), then
# one combined report that must reach the floor. Each database's tests are
# dealt into two parts (tests/support/parts.py), and the four parts run side
# by side: most of a browser test's time is waiting on Chromium, a server or
# a stalled link, and the other parts use that time. The parts share nothing
# (each its own database, data folder, servers on free ports, and Redis
# database for the live server's rate limits). Tests that use no database run
# once, in the SQLite parts (HOMEWARD_TEST_DATABASE_ONLY on PostgreSQL). Each
# part's output is printed whole when it ends (-O); `make test TEST_JOBS=1`
# runs them one after the other. Each names its ten slowest steps, so a test
# that makes the suite slow is seen. `make test-sqlite` or `make
# test-postgres` runs one database's whole suite in one process.
TEST_JOBS ?= 4
TEST_PARTS := sqlite-1 sqlite-2 postgres-1 postgres-2
LIVE_REDIS_DB_sqlite-1 := 11
LIVE_REDIS_DB_sqlite-2 := 9
LIVE_REDIS_DB_postgres-1 := 12
LIVE_REDIS_DB_postgres-2 := 10

test: $(STAMP) browser caddy $(NPM_STAMP) lint
	$(BIN)/coverage erase
	$(BIN)/coverage run -m server.cli messages check
	$(MAKE) --no-print-directory -j$(TEST_JOBS) -O $(TEST_PARTS:%=test-%)
	$(BIN)/coverage combine --quiet
	$(BIN)/coverage report --fail-under=$(COVERAGE_FLOOR)

.PHONY: test-sqlite test-postgres $(TEST_PARTS:%=test-%)
test-sqlite test-postgres: test-%:
	HOMEWARD_TEST_DB=$* $(BIN)/coverage run -m pytest --durations=10

# The parts' temporary files, their SQLite databases among them, on a RAM
# disk where there is one: a commit there skips the disk flush (about 3.5 ms
# on this machine's disk; about a tenth of an HTTP test file's time).
TEST_TMPDIR ?= $(if $(wildcard /dev/shm),/dev/shm,/tmp)

$(TEST_PARTS:%=test-%): test-%:
	TMPDIR=$(TEST_TMPDIR) HOMEWARD_TEST_DB=$(firstword $(subst -, ,$*)) HOMEWARD_TEST_PART=$(lastword $(subst -, ,$*))/2 \
	HOMEWARD_TEST_DATABASE_ONLY=$(if $(filter postgres-%,$*),1,0) \
	HOMEWARD_TEST_LIVE_REDIS_URL=redis://127.0.0.1:6379/$(LIVE_REDIS_DB_$*) \
		$(BIN)/coverage run -m pytest --durations=10

# Mutation testing of the modules that guard people and data (docs/quality.md,
# "Mutation testing"): every module by default, or `make mutate MODULES='csrf access'`.
# Not part of `make test`: the whole set takes hours on two cores.
mutate: $(STAMP)
	$(BIN)/python -m tests.mutation.run $(MODULES)

messages: $(STAMP)
	$(BIN)/homeward messages update

# Lighthouse for the benchmarks only, pinned in bench/npm/package-lock.json.
# It drives /usr/bin/chromium: no install script runs, no browser is fetched.
$(LIGHTHOUSE): bench/npm/package.json bench/npm/package-lock.json
	cd bench/npm && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --silent --ignore-scripts
	touch $(LIGHTHOUSE)

bench: $(STAMP) browser $(LIGHTHOUSE)
	$(BIN)/python -m bench.run
