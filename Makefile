# Two entry points: `make demo` (the main job on the embedded store) and `make test`.
# Both install everything they need from nothing into .venv (torch pinned to the CPU build).
VENV ?= .venv
BIN := $(VENV)/bin
LINT := tools/cypher_lint
EXPLORER := web/explorer

.PHONY: demo test install lint-deps lint bench explorer explorer-check chromium

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

# The explorer web page: one build command; its output in graph_service/explorer/static is committed.
explorer:
	npm ci --prefix $(EXPLORER) --no-audit --no-fund --loglevel=error
	npm run build --prefix $(EXPLORER)

# The committed build must be what the sources build to (byte for byte).
explorer-check:
	$(EXPLORER)/check_build.sh

# Debian's Chromium for the explorer's browser tests (tests/explorer).
chromium:
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium chromium-driver)

demo: install
	$(BIN)/prodgraph demo

lint: install lint-deps
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m graph_service.queries lint

test: lint explorer-check chromium
	$(BIN)/pytest

bench: install
	$(BIN)/python bench/store.py
