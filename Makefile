# Two entry points: `make demo` (the main job on the embedded store) and `make test`.
# Both install everything they need from nothing into .venv (torch pinned to the CPU build).
VENV ?= .venv
BIN := $(VENV)/bin
LINT := tools/cypher_lint

.PHONY: demo test install lint-deps lint bench

$(BIN)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/.installed

$(LINT)/node_modules/.installed: $(LINT)/package-lock.json
	npm ci --prefix $(LINT) --no-audit --no-fund --loglevel=error
	touch $@

lint-deps: $(LINT)/node_modules/.installed

demo: install
	$(BIN)/prodgraph demo

lint: install lint-deps
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m graph_service.queries lint

test: lint
	$(BIN)/pytest

bench: install
	$(BIN)/python bench/store.py
