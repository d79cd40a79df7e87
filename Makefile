# Two commands for a fresh machine: `make run` (the whole system, embedded) and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run run-cluster test test-topology test-fast test-slow test-integration-sqlite lint bench venv clean asyncapi

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==25.3"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

## Start nats-server (JetStream), every service on SQLite, and the portal; Ctrl-C stops all.
run: venv
	$(BIN)/python -m shared.launcher

## The production shape on this machine (docs/OPERATIONS.md, "The production topology on one
## machine"): 3 NATS nodes, PostgreSQL, two intake replicas and a ward pool behind nginx on
## :8080, Prometheus on :9090. Needs Debian's prometheus and nginx; data in .data-cluster/.
run-cluster: venv
	$(BIN)/python -m shared.topology

## Lint, type-check and the whole test suite (unit, integration, e2e, slow fault injection).
test: venv lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## The quick part of the suite only.
test-fast: venv
	$(BIN)/python -m pytest -m "not slow and not e2e" $(PYTEST_ARGS)

test-slow: venv
	$(BIN)/python -m pytest -m "slow" $(PYTEST_ARGS)

## The production topology's tests only (tests/topology: faults, alerts, the image).
test-topology: venv
	$(BIN)/python -m pytest tests/topology $(PYTEST_ARGS)

## Integration tests on SQLite even where TEST_DATABASE_URL points at PostgreSQL.
test-integration-sqlite: venv
	env -u TEST_DATABASE_URL $(BIN)/python -m pytest tests/integration -m "not slow" $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared services tests bench

bench: venv
	$(BIN)/python -m bench

asyncapi: venv
	$(BIN)/python -m shared.asyncapi docs/asyncapi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
