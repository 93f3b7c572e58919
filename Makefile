# `make run` sets everything up and opens the app; `make test` sets everything up and runs the tests.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
# The exact version of every package setup installs, so two fresh installs are the same (`make constraints`).
CONSTRAINTS ?= constraints.txt
PIP := $(PY) -m pip install -q -c $(CONSTRAINTS)

.PHONY: setup venv run test test-lowest lint dist smoke bench-deps constraints

setup: $(VENV)/.installed

venv: setup

$(VENV)/.installed: pyproject.toml $(CONSTRAINTS) scripts/system-deps.sh
	./scripts/system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	# The CPU wheel of torch first: an unpinned torch would pull several GB of CUDA packages.
	$(PIP) torch==2.13.0
	$(PIP) -e ".[test]"
	touch $@

run: setup
	$(VENV)/bin/intentdesk

test: setup
	HF_HUB_OFFLINE=1 QT_QPA_PLATFORM=offscreen $(PY) -m pytest

# The floors pyproject.toml claims, tested: every direct dependency at its lowest allowed version
# (constraints-lowest.txt) in .venv-lowest, and the tests that touch each of them: load, train (Quick and
# Full), classify, tampered configs, datasets, audio decoding, the service, the words part, the GUI's plots.
LOWEST_TESTS := tests/test_packaging.py tests/core/learning/test_training.py tests/core/learning/test_pooled_quick.py \
	tests/core/learning/test_feature_cache_rng.py tests/core/learning/test_metrics.py tests/cli/test_inference_cli.py \
	tests/core/models/test_tampered_model_folder.py tests/core/models/precision/test_int8.py tests/core/data/test_dataset.py \
	tests/core/audio tests/service \
	tests/words/test_words_asr.py tests/words/test_words_vocabulary.py tests/words/test_words_layout.py \
	tests/gui/test_main_window.py \
	tests/gui/train/test_train_results.py tests/gui/classify/test_classify_tab.py
test-lowest:
	$(MAKE) setup VENV=.venv-lowest CONSTRAINTS=constraints-lowest.txt
	HF_HUB_OFFLINE=1 QT_QPA_PLATFORM=offscreen .venv-lowest/bin/python -m pytest $(LOWEST_TESTS)

# Regenerate constraints.txt (newest allowed versions) and constraints-lowest.txt (the floors) after a
# change to pyproject.toml's requirements, each from a fresh virtual environment.
constraints:
	PYTHON=$(PYTHON) ./scripts/constraints.sh newest
	PYTHON=$(PYTHON) ./scripts/constraints.sh lowest

lint: setup
	$(VENV)/bin/ruff check intentdesk tests benchmarks
	$(VENV)/bin/lint-imports

# The packaged app (PyInstaller, build.spec) in dist/IntentDesk, and what a person downloads: the
# self-contained dist/IntentDesk-VERSION-linux-x86_64.tar.zst and dist/intentdesk_VERSION_amd64.deb (sizes
# printed). `make dist MODELS="DIR1 DIR2"` bundles local model folders (base model, speech recogniser, text
# encoder) so the app works offline at once; the default has none. Cached: only what changed is redone
# (FRESH=1 redoes all; LEVEL=19 packs 12 % smaller, 37 times slower; ARTIFACTS=0 stops after the folder).
dist: setup
	MODELS='$(MODELS)' ./scripts/build.sh

# Builds (as dist), then tests the artifacts as a new user gets them: the .tar.zst extracted with an empty
# HOME (self-test, window timed under Xvfb, menu entry), the .deb's files, control and libraries.
smoke: setup
	MODELS='$(MODELS)' ./scripts/smoke.sh

# What the benchmarks need beyond the app (the Trainer baseline, the load-test client).
bench-deps: setup
	$(PIP) -e ".[test,bench]"
