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
# The venv installs requirements/<EXTRAS with - for ,>.txt, a lock with a hash for every file
# (scripts/locks.py LOCKED_EXTRAS lists the sets that have one; `make lock` writes them).
comma       := ,
LOCK        := requirements/$(subst $(comma),-,$(EXTRAS)).txt
# Where `make lock` finds torch's CPU wheel: pip's find-links by default (the project's build
# machines keep it there); empty: PyTorch's CPU index. LOCK_ARGS: --upgrade, --upgrade-package X.
LOCK_FIND_LINKS ?= $(PIP_FIND_LINKS)
LOCK_ARGS   ?=

ENV         ?= local
DATA        ?=
VERIFY      ?= 1
KEY         ?=
PREFIX      ?=
THRESHOLD   ?=
BUCKET      ?=
MODEL_DIR   ?=
BENCH_ARGS  ?=
SOAK_ARGS   ?=
FRESH       ?= 0
CAPTURE_DIR ?=
SOURCE      ?=
STATUS      ?=
SINCE       ?=
LIMIT       ?=
FORMAT      ?=
AUTO_APPROVE ?= 0
MIN_ACCURACY ?=
PACKAGE     ?=
NOTEBOOK_ARGS ?=
# localcloud/control.py DEFAULT_PORT; tests/infra/test_infra_layout.py checks that they agree.
LOCAL_CLOUD_PORT ?= 4566
export LOCAL_CLOUD_PORT

# With ENV=local, the targets that talk to AWS point at the local cloud with the key it issued
# when it started (`python -m localcloud env` prints it; the caller's own AWS credentials,
# profile and session token are dropped). It fails, saying so, when no local cloud runs.
# Other environments use the caller's AWS configuration untouched.
ifeq ($(ENV),local)
AWS_ENV := lc_env="$$($(PY) -m localcloud env --port $(LOCAL_CLOUD_PORT))" && eval "$$lc_env" &&
endif

.PHONY: help venv lock test lint format package data upload train promote train-local evaluate \
        init plan apply destroy local-up local-down local-status local-env classify results monitor notebook demo bench soak clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The locks are resolved for CPython 3.11 on x86_64 Linux (scripts/locks.py VENV_PYTHON).
$(VENV)/.installed: pyproject.toml $(LOCK)
	@$(PYTHON_BOOT) -c 'import platform, sys; sys.exit(0 if sys.version_info[:2] == (3, 11) and sys.platform == "linux" and platform.machine() == "x86_64" else "the lock files are for CPython 3.11 on x86_64 Linux, found " + sys.version.split()[0] + " on " + sys.platform + " " + platform.machine() + ": give PYTHON_BOOT=<a python3.11>")'
	$(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes $(if $(TORCH_INDEX_URL),--extra-index-url $(TORCH_INDEX_URL)) -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

requirements/%.txt:
	@echo "no lock file $@ for EXTRAS=$(EXTRAS): add the set to LOCKED_EXTRAS in scripts/locks.py and run make lock" >&2; exit 2

venv: $(VENV)/.installed ## Create .venv from the lock of its dev, train and monitor extras (requirements/)

lock: ## Write the lock files with hashes (requirements/*.txt, functions/layer-requirements.txt) with uv
	$(PYTHON_BOOT) -m scripts.locks compile $(foreach links,$(LOCK_FIND_LINKS),--find-links $(links)) $(LOCK_ARGS)

test: venv ## Run the whole test suite (unit, packaging, Terraform, training, local cloud end to end)
	$(PY) -m pytest

lint: venv ## zizmor, actionlint, shellcheck, ruff, ruff format --check, mypy, lock files, terraform fmt/validate and locks, checkov
	scripts/lint_ci.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m scripts.locks check
	scripts/lint_infra.sh
	@# Last: until the darwin_arm64 hashes are added where the registry is reachable, it warns
	@# (and fails with CI=true, as in GitHub Actions).
	$(PY) -m scripts.tf_locks

format: venv ## Rewrite the code with ruff format and ruff's fixes
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

package: venv ## Build the Lambda zips and the Pillow layer under build/functions/
	$(PY) -m scripts.package_lambdas --out build/functions

data: venv ## Convert CIFAR-100 into build/data (DATA=archive or image folder; VERIFY=0 skips the md5 check)
	$(PY) -m training.convert --out build/data --data "$(DATA)" $(if $(filter 0,$(VERIFY)),--no-verify)

upload: venv ## Copy build/data to ENV's bucket in the training-channel layout (BUCKET= overrides Terraform)
	$(AWS_ENV) $(PY) -m training.upload --env $(ENV) --data build/data $(if $(BUCKET),--bucket $(BUCKET))

train: venv ## Train ENV's model, test it, register it Approved/Rejected by the gate (MIN_ACCURACY= for one run)
	$(AWS_ENV) $(PY) -m training.launch --env $(ENV) --data build/data $(if $(MIN_ACCURACY),--min-accuracy $(MIN_ACCURACY))

promote: venv ## Write ENV's latest Approved model package (or PACKAGE=arn) for the next plan; prints old -> new
	$(AWS_ENV) $(PY) -m training.promote --env $(ENV) $(if $(PACKAGE),--package '$(PACKAGE)')

train-local: venv ## Train the local CPU model from build/data into build/ml/model (no cloud)
	$(PY) -m training.local_trainer stage --data build/data --ml-root build/ml
	$(PY) -m training.local_trainer train --ml-root build/ml

evaluate: venv ## Test images through ENV's endpoint (MODEL_DIR=dir: a local model) -> build/eval/report.json
	$(AWS_ENV) $(PY) -m training.evaluate --env $(ENV) --data build/data $(if $(MODEL_DIR),--local-model $(MODEL_DIR))

init: ## terraform init of infra/envs/ENV (provider from a local mirror when there is one)
	scripts/tf.sh init $(ENV)

plan: package ## Plan ENV (default local) into build/terraform/ENV.tfplan
	$(AWS_ENV) scripts/tf.sh plan $(ENV)

# Then, applied or not, the endpoint is read back: provider 5.x reports a SageMaker rollback as
# success (scripts/endpoint_check.py), so the target fails, with SageMaker's FailureReason, unless
# the endpoint is InService on the configuration Terraform planned.
apply: venv ## Apply exactly the saved plan of ENV (make plan first), then check the endpoint serves what was planned
	$(AWS_ENV) { scripts/tf.sh apply $(ENV) && applied=0 || applied=$$?; \
	  $(PY) -m scripts.endpoint_check --env $(ENV) || exit 1; exit $$applied; }

destroy: ## Destroy ENV (asks unless AUTO_APPROVE=1)
	$(AWS_ENV) AUTO_APPROVE=$(AUTO_APPROVE) scripts/tf.sh destroy $(ENV)

local-up: venv ## Start the local cloud in the background (127.0.0.1, LOCAL_CLOUD_PORT, default 4566)
	$(PY) -m localcloud up --port $(LOCAL_CLOUD_PORT)

local-down: venv ## Stop the local cloud that local-up started, with its Lambda workers and jobs
	$(PY) -m localcloud down --port $(LOCAL_CLOUD_PORT)

local-status: venv ## Say whether the local cloud runs (exit 0) or not (exit 3)
	$(PY) -m localcloud status --port $(LOCAL_CLOUD_PORT)

local-env: venv ## Print export lines for the local cloud's endpoint and key: eval "$$(make -s local-env)"
	@$(PY) -m localcloud env --port $(LOCAL_CLOUD_PORT)

classify: venv ## Classify KEY=<s3 key>, or PREFIX=<prefix> as one batch run (FOLLOW=/STOP=/REDRIVE=<execution arn>)
	@test -n "$(KEY)$(PREFIX)$(FOLLOW)$(STOP)$(REDRIVE)" || { echo "give KEY=test/bicycle_s_000513.png, PREFIX=test/, FOLLOW=<arn>, STOP=<arn> or REDRIVE=<arn>" >&2; exit 2; }
	$(AWS_ENV) $(PY) -m scripts.classify --env $(ENV) $(if $(KEY),--key '$(KEY)',$(if $(PREFIX),--prefix '$(PREFIX)',$(if $(FOLLOW),--follow '$(FOLLOW)',$(if $(REDRIVE),--redrive '$(REDRIVE)',--stop '$(STOP)'))))

# Silent (@): `make results FORMAT=csv > results.csv` writes only the CSV.
results: venv ## List ENV's results table, newest first (STATUS=, SINCE=1h|7d|ISO time, LIMIT=, FORMAT=csv)
	@$(AWS_ENV) $(PY) -m scripts.results --env $(ENV) $(if $(STATUS),--status '$(STATUS)') $(if $(SINCE),--since '$(SINCE)') $(if $(LIMIT),--limit '$(LIMIT)') $(if $(FORMAT),--format '$(FORMAT)')

monitor: venv ## Monitoring report of ENV's inferences (SOURCE=auto|capture|results): build/monitor/report.html, summary.json
	$(AWS_ENV) $(PY) -m scripts.monitor --env $(ENV) $(if $(SOURCE),--source '$(SOURCE)') $(if $(THRESHOLD),--threshold $(THRESHOLD)) $(if $(CAPTURE_DIR),--capture-dir '$(CAPTURE_DIR)')

# Jupyter is the notebook extra's; the cloud is started only when none answers on the port.
notebook: venv ## Open notebooks/image_classification.ipynb in JupyterLab with the local cloud started (notebook extra; NOTEBOOK_ARGS=--no-browser ...)
	@$(PY) -c 'import jupyterlab' 2>/dev/null || { echo "JupyterLab is not in $(VENV): install the notebook extra from its lock with $(PY) -m pip install --require-hashes -r requirements/dev-train-monitor-notebook.txt (a new venv: make venv EXTRAS=dev,train,monitor,notebook)" >&2; exit 2; }
	@$(PY) -m localcloud status --port $(LOCAL_CLOUD_PORT) >/dev/null 2>&1 || $(PY) -m localcloud up --port $(LOCAL_CLOUD_PORT)
	@# The kernel runs in notebooks/: LOCAL_CLOUD_HOME keeps it finding the key of this cloud.
	LOCAL_CLOUD_HOME="$${LOCAL_CLOUD_HOME:-$(CURDIR)/.localcloud}" $(VENV)/bin/jupyter lab $(NOTEBOOK_ARGS) notebooks/image_classification.ipynb

demo: venv ## The whole pipeline on its own local cloud, with a summary (DATA=..., FRESH=1 redoes data and model)
	$(PY) -m scripts.demo $(if $(DATA),--data '$(DATA)') $(if $(filter 1,$(FRESH)),--fresh)

bench: venv ## Benchmarks (conversion, workflow, model, Terraform, packages, cost): build/bench/results.json
	$(PY) -m scripts.bench $(BENCH_ARGS)

soak: venv ## Plan, apply, classify, destroy the local root 10 times under a training load: build/soak/results.json
	$(PY) -m scripts.soak $(SOAK_ARGS)

clean: ## Remove build output (not .venv, not Terraform state)
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
