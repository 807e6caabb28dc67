# The two commands of the README, plus lint. Each sets up .venv on first use.
#   make quickstart   set up, then train and test the quick start (tiny encoder, generated data)
#   make test         set up (with dev extras), then run the test suite
PYTHON ?= python3
# torch 2.13 CPU is what CI and our laptops use; on a GPU box: make quickstart TORCH_SPEC=torch
TORCH_SPEC ?= torch==2.13.0
VENV := .venv
BIN := $(VENV)/bin

.PHONY: quickstart test lint setup

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

setup: $(VENV)/.installed

quickstart: setup
	$(BIN)/python -m lightning_xfer fit --config configs/quickstart.yaml
	$(BIN)/python -m lightning_xfer test --config configs/quickstart.yaml --ckpt_path best

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
