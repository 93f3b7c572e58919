# `make run` sets everything up and opens the app; `make test` sets everything up and runs the tests.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python

.PHONY: setup venv run test lint dist smoke bench-deps

setup: $(VENV)/.installed

venv: setup

$(VENV)/.installed: pyproject.toml scripts/system-deps.sh
	./scripts/system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The CPU wheel of torch first: an unpinned torch would pull several GB of CUDA packages.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[test]"
	touch $@

run: setup
	$(VENV)/bin/intentdesk

test: setup
	HF_HUB_OFFLINE=1 QT_QPA_PLATFORM=offscreen $(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check intentdesk tests benchmarks
	$(VENV)/bin/lint-imports

# The packaged app (PyInstaller, build.spec) in dist/IntentDesk; `make smoke` also runs it.
dist: setup
	./scripts/build.sh

smoke: setup
	./scripts/smoke.sh

# What the benchmarks need beyond the app (the Trainer baseline, the load-test client).
bench-deps: setup
	$(PY) -m pip install -q -e ".[test,bench]"
