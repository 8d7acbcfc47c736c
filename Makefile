# Every task a user or CI runs. `make test` is the only command a fresh machine needs.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PROJECT_ENVIRONMENT := $(VENV)
RUN := $(UV) run --locked --no-sync
PYTEST_ARGS ?=

.PHONY: help install test lint fmt schema check-schema demo clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(UV):
	@$(PYTHON) -m venv $(TOOLS)
	@$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# The stamp makes `make install` instant when the lock has not changed.
$(VENV)/.installed: uv.lock pyproject.toml | $(UV)
	@$(UV) sync --locked --all-extras --quiet
	@touch $@

install: $(VENV)/.installed ## create .venv from uv.lock (silent when already done)

test: install lint ## lint, then every test tier (unit, functional, e2e)
	$(RUN) pytest $(PYTEST_ARGS)

lint: install ## ruff check + ruff format --check
	@$(RUN) ruff check .
	@$(RUN) ruff format --check .

fmt: install ## apply ruff's fixes and formatting
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

schema: install ## regenerate config/job-config.schema.json from the models
	$(RUN) python -m config.schema

check-schema: install ## fail when the committed schema is stale
	$(RUN) python -m config.schema --check

demo: ## the whole pipeline on the embedded emulator (arrives with the local-runtime issue)
	@echo "make demo arrives with the local runtime (issue: local runtime, CLI and make demo)." >&2
	@exit 1

clean: ## remove the environments and build output
	rm -rf $(VENV) $(TOOLS) build .pytest_cache .ruff_cache

# ---- job: the scoring container (job/, benchmarks/bench_score.py) ----------------------------
.PHONY: bench-score
BENCH_ARGS ?=

bench-score: install ## benchmark `python -m job score` (4M rows; BENCH_ARGS="--rows 1000000")
	$(RUN) python benchmarks/bench_score.py $(BENCH_ARGS)
