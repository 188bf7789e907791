# damselfly: `make run` serves on 127.0.0.1:6379 in memory; `make test` runs lint and every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 6379
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint typecheck unit redis-server bench clean docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(BIN)/damselfly --port $(PORT) --bind 127.0.0.1

# The oracle for differential tests: Debian's redis-server (and redis-tools for redis-cli/benchmark).
redis-server:
	@command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null || { \
		echo "installing redis-server and redis-tools with apt-get"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null; }

lint: $(VENV)/.test-installed
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools

typecheck: $(VENV)/.test-installed
	$(BIN)/mypy

unit: $(VENV)/.test-installed redis-server
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

test: lint typecheck unit

docs: $(VENV)/.installed
	$(BIN)/python tools/gen_commands_md.py > docs/commands.md
	$(BIN)/python tools/gen_config_md.py > docs/configuration.md

bench: $(VENV)/.test-installed redis-server
	$(BIN)/python -c "import matplotlib" 2>/dev/null || $(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/run.py $(if $(QUICK),--quick,)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
