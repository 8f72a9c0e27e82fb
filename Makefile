# a6ledger — one entry point per task. `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# Test processes (pytest-xdist); each has its own databases and ports. 0 runs in-process.
PYTEST_WORKERS ?= 2

.PHONY: help install lock run test coverage lint typecheck imports check migrate openapi bench demo

help: ## Show this help
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*##/ {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The dependencies come from the hashed lock file (same versions on every machine, in CI and in
# the image); the project itself is installed on top of them, editable, without resolving again.
$(STAMP): pyproject.toml requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install the project with its dev tools (from requirements-dev.txt)

LOCK := $(BIN)/uv pip compile --quiet --generate-hashes --python-version 3.11 --universal
lock: $(STAMP) ## Rewrite the lock files (requirements*.txt) from pyproject.toml, after changing a dependency
	$(LOCK) pyproject.toml -o requirements.txt
	$(LOCK) pyproject.toml --extra dev -o requirements-dev.txt
	$(LOCK) requirements-verifier.in -o requirements-verifier.txt

run: $(STAMP) ## Install, then start the service on SQLite at http://$(HOST):$(PORT) (`make run PORT=8080`)
	$(BIN)/a6ledger serve --host $(HOST) --port $(PORT)

test: $(STAMP) ## Install, then run every test (SQLite, and PostgreSQL when it answers; see A6LEDGER_TEST_DATABASES)
	$(BIN)/pytest -n $(PYTEST_WORKERS)

coverage: $(STAMP) ## Run every test with a coverage report; fails under the floor in pyproject.toml
	$(BIN)/pytest -n $(PYTEST_WORKERS) --cov --cov-report=term-missing:skip-covered

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP) ## mypy --strict
	$(BIN)/mypy

imports: $(STAMP) ## Check the architecture contract (import-linter, see pyproject.toml)
	$(BIN)/lint-imports --no-cache

check: lint typecheck imports ## Lint, typecheck, the architecture contract, the committed OpenAPI document
	$(BIN)/a6ledger openapi --check

migrate: $(STAMP) ## Apply migrations to A6LEDGER_DATABASE_URL
	$(BIN)/a6ledger migrate

openapi: $(STAMP) ## Regenerate openapi/openapi.json from the app
	$(BIN)/a6ledger openapi

bench: $(STAMP) ## Run the benchmarks (ratios against a baseline measured in the same run)
	$(BIN)/python -m bench
