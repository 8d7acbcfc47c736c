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

.PHONY: help install awscli test test-fast test-exploits lint fmt schema check-schema docs check-docs demo clean

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

test: install lint tf-require browser ## lint, then every test tier (unit, functional, e2e)
	$(RUN) pytest $(PYTEST_ARGS)

.PHONY: browser
browser: ## Debian's chromium, which the report test renders in (apt-get, only when missing)
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { command -v apt-get >/dev/null 2>&1 && apt-get update -qq >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  { echo "chromium is missing and apt-get could not install it: the report test needs it" >&2; exit 1; }

test-fast: install ## every tier but the tests marked slow (no lint): a quick check while working
	$(RUN) pytest -m "not slow" $(PYTEST_ARGS)

test-exploits: install ## every reproduced attack of docs/security.md (marker `exploit`)
	$(RUN) pytest -m exploit $(PYTEST_ARGS)

lint: install ## ruff check + ruff format --check + mypy (its files and settings: pyproject.toml)
	@$(RUN) ruff check .
	@$(RUN) ruff format --check .
	@$(RUN) mypy

fmt: install ## apply ruff's fixes and formatting
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

schema: install ## regenerate config/job-config.schema.json and docs/job-config.md from the models
	$(RUN) python -m config.schema
	$(RUN) python -m config.reference

check-schema: install ## fail when the committed schema or reference is stale
	$(RUN) python -m config.schema --check
	$(RUN) python -m config.reference --check

docs: install ## regenerate terraform/README.md's Inputs and Outputs tables from the .tf files
	$(RUN) python scripts/terraform_docs.py

check-docs: install ## fail when terraform/README.md's Inputs or Outputs tables are stale
	$(RUN) python scripts/terraform_docs.py --check

demo: install ## the whole pipeline on the embedded emulator (no AWS account needed)
	@$(RUN) batchscore demo

# The official AWS CLI, as users fetch outputs with it (`batchscore submit` prints the command);
# its own venv: it pins botocore apart from the project's boto3. The walkthrough test runs it.
AWSCLI_VERSION := 1.45.11
AWSCLI_VENV := $(TOOLS)/awscli
AWS_CLI := $(AWSCLI_VENV)/bin/aws

$(AWSCLI_VENV)/.installed:
	@$(PYTHON) -m venv $(AWSCLI_VENV)
	@$(AWSCLI_VENV)/bin/pip install --quiet --disable-pip-version-check "awscli==$(AWSCLI_VERSION)"
	@touch $@

awscli: $(AWSCLI_VENV)/.installed ## the AWS CLI in .tools/awscli (the README walkthrough test uses it)

clean: ## remove the environments and build output
	rm -rf $(VENV) $(TOOLS) build .pytest_cache .ruff_cache .mypy_cache

# -- local runtime (submitter/local) --------------------------------------------------------------
.PHONY: local-up

local-up: install ## run the embedded local stack (AWS emulator + local Batch) until Ctrl-C
	$(RUN) batchscore local up

# ---------------------------------------------------------------------------------------------
# Submitter (the Lambda side): package and benchmark
# ---------------------------------------------------------------------------------------------
.PHONY: package bench-submit

ARCH ?= x86_64
LAMBDA_PYTHON ?= # empty: the runtime terraform deploys (scripts/package_submitter.py)

package: $(UV) ## build/submitter.zip for Lambda (ARCH=x86_64|arm64); prints its size
	@$(TOOLS)/bin/python scripts/package_submitter.py --arch $(ARCH) \
		$(if $(strip $(LAMBDA_PYTHON)),--python $(LAMBDA_PYTHON))

bench-submit: install ## ingest benchmark against a moto server (not a test)
	$(RUN) python benchmarks/bench_submit.py

# ---- job: the scoring container (job/, benchmarks/bench_score.py) ----------------------------
.PHONY: bench-score
BENCH_ARGS ?=

bench-score: install ## benchmark `python -m job score` (4M rows; BENCH_ARGS="--rows 1000000")
	$(RUN) python benchmarks/bench_score.py $(BENCH_ARGS)

# ---------------------------------------------------------------------------------------------
# Terraform (issue 5): fmt, init from the offline mirror, validate, `terraform test`, checkov.
# pytest (tests/functional/terraform, tests/e2e/terraform) calls these targets, so `make test`
# runs every check; `make terraform-check` runs them alone.
# ---------------------------------------------------------------------------------------------

TF_DIR := terraform
TF_EXAMPLE_DIRS := $(TF_DIR)/examples/minimal
TF_PLUGIN_MIRROR ?= /opt/tf-plugins
TF_RC := $(CURDIR)/build/terraformrc
# Every terraform call, pytest's included, reads the project's CLI config.
export TF_CLI_CONFIG_FILE := $(TF_RC)
export TF_IN_AUTOMATION := 1
TF := terraform
# The Lambda bundle stands in as an empty placeholder where only its hash is read (plan, test).
TF_PLACEHOLDER_ZIP := build/terraform/placeholder-submitter.zip
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := $(TOOLS)/checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov

.PHONY: tf-require tf-config tf-init tf-fmt tf-validate tf-test tf-checkov terraform-check

# Terraform itself is not installed by the Makefile: without it, `make test` stops here, at once,
# with the one line to act on (not as a failure deep in the suite).
tf-require: ## fail at once, in one line, when terraform is not on PATH
	@command -v $(TF) > /dev/null || { echo "error: terraform (1.11 or newer) is not on PATH: install it from https://developer.hashicorp.com/terraform/install" >&2; exit 1; }

# Rewritten every time: TF_PLUGIN_MIRROR may differ between calls. The offline mirror is this
# machine's fact, not the project's: where it does not exist, providers come from the registry.
tf-config: ## write build/terraformrc (providers from TF_PLUGIN_MIRROR when it exists, else the registry)
	@mkdir -p $(dir $(TF_RC))
	@if [ -d "$(TF_PLUGIN_MIRROR)" ]; then \
	  printf '%s\n' \
	  'provider_installation {' \
	  '  filesystem_mirror {' \
	  '    path    = "$(TF_PLUGIN_MIRROR)"' \
	  '    include = ["registry.terraform.io/hashicorp/*"]' \
	  '  }' \
	  '  direct {' \
	  '    exclude = ["registry.terraform.io/hashicorp/*"]' \
	  '  }' \
	  '}' > $(TF_RC); \
	else \
	  printf '%s\n' '# no provider mirror at $(TF_PLUGIN_MIRROR): providers come from the registry' > $(TF_RC); \
	fi

tf-init: tf-config ## terraform init (root + examples) against the committed lock files
	@for dir in $(TF_DIR) $(TF_EXAMPLE_DIRS); do \
	  $(TF) -chdir=$$dir init -backend=false -input=false -lockfile=readonly -no-color > /dev/null \
	    || { echo "terraform init failed in $$dir" >&2; exit 1; }; \
	done

tf-fmt: ## terraform fmt -check -recursive
	$(TF) fmt -check -recursive -diff $(TF_DIR)

tf-validate: tf-init ## terraform validate (root + examples)
	@for dir in $(TF_DIR) $(TF_EXAMPLE_DIRS); do \
	  echo "validate $$dir"; $(TF) -chdir=$$dir validate -no-color; \
	done

$(TF_PLACEHOLDER_ZIP):
	@mkdir -p $(dir $@)
	@$(PYTHON) -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1], 'w').writestr('submitter/__init__.py', '')" $@

tf-test: tf-init $(TF_PLACEHOLDER_ZIP) ## terraform test (mock provider: no AWS, no emulator)
	$(TF) -chdir=$(TF_DIR) test -no-color -var 'submitter_zip=$(CURDIR)/$(TF_PLACEHOLDER_ZIP)'

$(CHECKOV_VENV)/.installed:
	@$(PYTHON) -m venv $(CHECKOV_VENV)
	@$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check "checkov==$(CHECKOV_VERSION)"
	@touch $@

# checkov exits 0 on a directory with nothing to scan: the summary must count passed checks.
tf-checkov: $(CHECKOV_VENV)/.installed ## checkov (own venv; every skip is inline with a reason)
	@mkdir -p build/terraform
	@status=0; BC_SKIP_MAPPING=TRUE $(CHECKOV) --directory $(TF_DIR) --framework terraform \
	  --compact --quiet > build/terraform/checkov.txt 2>&1 || status=$$?; \
	cat build/terraform/checkov.txt; \
	grep -Eq 'Passed checks: [1-9]' build/terraform/checkov.txt \
	  || { echo "checkov scanned nothing in $(TF_DIR)" >&2; exit 1; }; \
	exit $$status

terraform-check: tf-fmt tf-validate tf-test tf-checkov ## every Terraform check
