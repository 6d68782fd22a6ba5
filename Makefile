# The two commands of the README: `make up` and `make test`. Both create/refresh .venv first.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
BIN := $(VENV)/bin

.PHONY: up test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

up: $(STAMP)
	$(BIN)/breach up

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check incident streams console tests
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m streams.bench

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
