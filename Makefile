# The two commands: `make run` (dashboard + worker + beat on embedded defaults) and `make test`.
SHELL := /bin/sh
VENV := .venv
PYTHON := $(shell scripts/find-python)

.PHONY: run test lint format

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || (echo "No Python >= 3.12 found" >&2; exit 1)
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	touch $@

run: $(VENV)/.installed
	$(VENV)/bin/python scripts/run.py

test: $(VENV)/.installed
	$(VENV)/bin/python scripts/test.py $(ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
