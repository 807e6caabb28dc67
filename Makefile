# The two commands of the README, plus lint. Each sets up .venv on first use.
#   make quickstart   set up, then run the embedded study (pre-training, intermediate and target tasks,
#                     zero-shot tests in ten generated languages) and print its report's findings
#   make test         set up (with dev extras), then run the test suite
PYTHON ?= python3
# torch 2.13 CPU is what CI and our laptops use; on a GPU box: make quickstart TORCH_SPEC=torch
TORCH_SPEC ?= torch==2.13.0
VENV := .venv
BIN := $(VENV)/bin
# Each `make one-run` is a run of its own root, so `--ckpt_path best` can only mean the run it trained.
ONE_RUN_ROOT := runs/quickstart/$(shell date +%Y%m%d-%H%M%S)
EMBEDDED := configs/studies/embedded.yaml

.PHONY: quickstart one-run test test-slow lint setup setup-core benchmarks

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The package alone (what the quick start needs); `setup` adds the dev extras the tests need.
$(VENV)/.installed-core: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed-core

setup-core: $(VENV)/.installed-core

setup: $(VENV)/.installed

# The study resumes where it stopped and skips what is complete, so running it again is cheap.
quickstart: setup-core
	$(BIN)/python -m lightning_xfer study run $(EMBEDDED) --in-process
	$(BIN)/python -m lightning_xfer study results $(EMBEDDED)
	$(BIN)/python -m lightning_xfer report runs/embedded/results.csv --print-findings

# One training run and its zero-shot test (the tiny encoder on a generated 4-topic task): seconds.
one-run: setup-core
	$(BIN)/python -m lightning_xfer fit --config configs/quickstart.yaml --trainer.default_root_dir $(ONE_RUN_ROOT)
	$(BIN)/python -m lightning_xfer test --config configs/quickstart.yaml --trainer.default_root_dir $(ONE_RUN_ROOT) \
		--ckpt_path best

# -rs lists every skipped test with its reason; CI (.ci/run) makes the skips for ../shared/data and
# the `e5` extra fail instead (LIGHTNING_XFER_REQUIRE_ALL=1, see tests/conftest.py).
test: setup
	$(BIN)/python -m pytest -q -rs

# The slow checks (2-process FSDP2 and DeepSpeed ZeRO-3 sharding on CPU, real signals to study runs,
# the interruption drill, the two longest real-transfer checks, the embedded study against its
# known answer, world-xchoice's learnability): about 36 minutes.
test-slow: setup
	$(BIN)/python -m pytest -q -rs --slow -m slow

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Every benchmark side by side (benchmarks/README.md): about 30 minutes on 2 CPU cores.
benchmarks: setup
	bash benchmarks/run_all.sh $(BIN)/python
