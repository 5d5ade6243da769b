# Scones Unlimited vehicle classifier. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON_BOOT ?= python3
VENV        ?= .venv
PY          := $(VENV)/bin/python
# Where pip finds torch. Empty means PyPI (and any pip configuration on the machine); on a
# machine with internet and no GPU, pass https://download.pytorch.org/whl/cpu for the CPU build.
TORCH_INDEX_URL ?=
EXTRAS      ?= dev,train,monitor

ENV         ?= local
DATA        ?=
VERIFY      ?= 1
KEY         ?=
PREFIX      ?=
THRESHOLD   ?=
CAPTURE_DIR ?=
AUTO_APPROVE ?= 0
LOCAL_CLOUD_PORT ?= 4566
export LOCAL_CLOUD_PORT

.PHONY: help venv test lint format package data upload train evaluate \
        init plan apply destroy local-up local-down local-status classify monitor demo bench clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV)/.installed: pyproject.toml
	@$(PYTHON_BOOT) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed, found " + sys.version.split()[0])'
	$(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(if $(TORCH_INDEX_URL),--extra-index-url $(TORCH_INDEX_URL)) -e '.[$(EXTRAS)]'
	@touch $@

venv: $(VENV)/.installed ## Create .venv and install the project with its dev, train and monitor extras

test: venv ## Run the whole test suite (unit, packaging, Terraform, training, local cloud end to end)
	$(PY) -m pytest

lint: venv ## ruff, ruff format --check, mypy, terraform fmt/validate, checkov, actionlint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	scripts/lint_infra.sh

format: venv ## Rewrite the code with ruff format and ruff's fixes
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

package: venv ## Build the Lambda zips and the Pillow layer under build/functions/
	$(PY) -m scripts.package_lambdas --out build/functions

init: ## terraform init of infra/envs/ENV (provider from a local mirror when there is one)
	scripts/tf.sh init $(ENV)

plan: package ## Plan ENV (default local) into build/terraform/ENV.tfplan
	scripts/tf.sh plan $(ENV)

apply: ## Apply exactly the saved plan of ENV (make plan first)
	scripts/tf.sh apply $(ENV)

destroy: ## Destroy ENV (asks unless AUTO_APPROVE=1)
	AUTO_APPROVE=$(AUTO_APPROVE) scripts/tf.sh destroy $(ENV)

local-up: venv ## Start the local cloud in the background (127.0.0.1, LOCAL_CLOUD_PORT, default 4566)
	$(PY) -m localcloud up --port $(LOCAL_CLOUD_PORT)

local-down: venv ## Stop the local cloud that local-up started, with its Lambda workers and jobs
	$(PY) -m localcloud down --port $(LOCAL_CLOUD_PORT)

local-status: venv ## Say whether the local cloud runs (exit 0) or not (exit 3)
	$(PY) -m localcloud status --port $(LOCAL_CLOUD_PORT)

classify: venv ## Classify KEY=<s3 key>, or every image under PREFIX=<prefix>, with ENV's state machine
	@test -n "$(KEY)$(PREFIX)" || { echo "give KEY=test/bicycle_s_000513.png or PREFIX=test/" >&2; exit 2; }
	$(PY) -m scripts.classify --env $(ENV) $(if $(KEY),--key '$(KEY)',--prefix '$(PREFIX)')

monitor: venv ## Monitoring report of ENV's endpoint data capture: build/monitor/report.html, summary.json
	$(PY) -m scripts.monitor --env $(ENV) $(if $(THRESHOLD),--threshold $(THRESHOLD)) $(if $(CAPTURE_DIR),--capture-dir '$(CAPTURE_DIR)')

clean: ## Remove build output (not .venv, not Terraform state)
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
