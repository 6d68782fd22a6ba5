# The two commands of the README: `make up` and `make test`. Both create/refresh .venv first.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
BIN := $(VENV)/bin
CHROMIUM := /usr/bin/chromium

# Root installs system packages directly; anyone else through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: up test lint bench clean tools audit lock screenshots

# Every package at the version and hash of requirements-dev.lock (what the suite was run with),
# then the project itself without resolving anything again.
$(STAMP): pyproject.toml requirements-dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

up: $(STAMP)
	$(BIN)/breach up

# docker-compose (Debian's package) validates deploy/compose.yaml in the tests; no engine needed.
tools:
	@command -v docker-compose >/dev/null 2>&1 || { \
	  echo "Installing docker-compose (Debian package) to validate deploy/compose.yaml"; \
	  $(APT) update -qq && $(APT) install -y -qq --no-install-recommends docker-compose >/dev/null; }

test: $(STAMP) $(CHROMIUM) tools
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check incident streams console benchmarks tests
	$(BIN)/mypy

# Known vulnerabilities of the pinned packages (PyPI's advisory database; needs network).
audit: $(STAMP)
	$(BIN)/python -m pip install --quiet pip-audit
	$(BIN)/pip-audit --disable-pip --require-hashes -r requirements.lock
	$(BIN)/pip-audit --disable-pip --require-hashes -r requirements-dev.lock

# After changing a dependency in pyproject.toml: pin it (and what it needs) again, with hashes.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	  --no-emit-find-links --extra dev --extra production -o requirements-dev.lock pyproject.toml
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	  --no-emit-find-links --extra production -c requirements-dev.lock -o requirements.lock pyproject.toml

# The README's pictures of the notice previews (docs/img/), taken on the whole embedded stack by
# headless chromium. Not part of `make test`: it rewrites files under docs/.
screenshots: $(STAMP) $(CHROMIUM)
	$(BIN)/python -m tests.readme_screenshots docs/img

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache

# The browser tests drive Debian's chromium through Playwright from PyPI (never `playwright install`,
# which downloads a browser build). A file target: installed once, when it is missing.

$(CHROMIUM):
	$(APT) install -y --no-install-recommends chromium || { $(APT) update && $(APT) install -y --no-install-recommends chromium; }
