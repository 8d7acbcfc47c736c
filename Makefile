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

schema: install ## regenerate config/job-config.schema.json and docs/job-config.md from the models
	$(RUN) python -m config.schema
	$(RUN) python -m config.reference

check-schema: install ## fail when the committed schema or reference is stale
	$(RUN) python -m config.schema --check
	$(RUN) python -m config.reference --check

demo: install ## the whole pipeline on the embedded emulator (no AWS account needed)
	@$(RUN) batchscore demo

clean: ## remove the environments and build output
	rm -rf $(VENV) $(TOOLS) build .pytest_cache .ruff_cache

# -- local runtime (submitter/local) --------------------------------------------------------------
.PHONY: local-up

local-up: install ## run the embedded local stack (AWS emulator + local Batch) until Ctrl-C
	$(RUN) batchscore local up

# ---------------------------------------------------------------------------------------------
# Submitter (the Lambda side): package and benchmark
# ---------------------------------------------------------------------------------------------
.PHONY: package bench-submit

ARCH ?= x86_64
LAMBDA_PYTHON ?= 3.12

package: $(UV) ## build/submitter.zip for Lambda (ARCH=x86_64|arm64); prints its size
	@$(TOOLS)/bin/python scripts/package_submitter.py --arch $(ARCH) --python $(LAMBDA_PYTHON)

bench-submit: install ## ingest benchmark against a moto server (not a test)
	$(RUN) python benchmarks/bench_submit.py

# ---- job: the scoring container (job/, benchmarks/bench_score.py) ----------------------------
.PHONY: bench-score
BENCH_ARGS ?=

bench-score: install ## benchmark `python -m job score` (4M rows; BENCH_ARGS="--rows 1000000")
	$(RUN) python benchmarks/bench_score.py $(BENCH_ARGS)
