# The two commands of the README: `make up` and `make test`. Both create/refresh .venv first.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
BIN := $(VENV)/bin

# Root installs system packages directly; anyone else through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: up test lint bench clean tools

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

up: $(STAMP)
	$(BIN)/breach up

# docker-compose (Debian's package) validates deploy/compose.yaml in the tests; no engine needed.
tools:
	@command -v docker-compose >/dev/null 2>&1 || { \
	  echo "Installing docker-compose (Debian package) to validate deploy/compose.yaml"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends docker-compose >/dev/null; }

test: $(STAMP) tools
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check incident streams console tests
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m streams.bench

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
