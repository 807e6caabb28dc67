# The two commands of the README, plus lint. Each sets up .venv on first use.
#   make quickstart   set up, then train and test the quick start (tiny encoder, generated data)
#   make test         set up (with dev extras), then run the test suite
PYTHON ?= python3
# torch 2.13 CPU is what CI and our laptops use; on a GPU box: make quickstart TORCH_SPEC=torch
TORCH_SPEC ?= torch==2.13.0
VENV := .venv
BIN := $(VENV)/bin
# Each `make quickstart` is a run of its own root, so `--ckpt_path best` can only mean the run it trained.
QUICKSTART_ROOT := runs/quickstart/$(shell date +%Y%m%d-%H%M%S)

.PHONY: quickstart test test-slow lint setup benchmarks

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

setup: $(VENV)/.installed

quickstart: setup
	$(BIN)/python -m lightning_xfer fit --config configs/quickstart.yaml --trainer.default_root_dir $(QUICKSTART_ROOT)
	$(BIN)/python -m lightning_xfer test --config configs/quickstart.yaml --trainer.default_root_dir $(QUICKSTART_ROOT) \
		--ckpt_path best

# -rs lists every skipped test with its reason; CI (.ci/run) makes the skips for ../shared/data and
# the `e5` extra fail instead (LIGHTNING_XFER_REQUIRE_ALL=1, see tests/conftest.py).
test: setup
	$(BIN)/python -m pytest -q -rs

# The slow checks (2-process FSDP2 and DeepSpeed ZeRO-3 sharding on CPU): about 4 minutes.
test-slow: setup
	$(BIN)/python -m pytest -q -rs --slow -m slow

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Every benchmark side by side (benchmarks/README.md): about 30 minutes on 2 CPU cores.
benchmarks: setup
	bash benchmarks/run_all.sh $(BIN)/python
