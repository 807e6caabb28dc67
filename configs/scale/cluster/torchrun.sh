#!/bin/bash
# The same run without SLURM: torchrun on each of 2 nodes (8 GPUs each). Lightning sees torchrun's
# variables (TorchElasticEnvironment) and takes the ranks from them.
#   node 0:  NODE_RANK=0 HEAD=node0.example bash configs/scale/cluster/torchrun.sh
#   node 1:  NODE_RANK=1 HEAD=node0.example bash configs/scale/cluster/torchrun.sh
set -euo pipefail
source .venv/bin/activate
: "${HEAD:?set HEAD to the hostname of node 0}" "${NODE_RANK:?set NODE_RANK (0 or 1)}"
torchrun --nnodes=2 --nproc-per-node=8 --node-rank="$NODE_RANK" \
  --rdzv-backend=c10d --rdzv-endpoint="$HEAD:29500" --rdzv-id=xfer-xxl-panx \
  -m lightning_xfer fit \
  --config configs/trainer/gpu.yaml \
  --config configs/tasks/panx.yaml \
  --config configs/encoders/xlm-roberta-xxl.yaml \
  --config configs/scale/fsdp2.yaml \
  --trainer.num_nodes=2 --trainer.devices=8 \
  --trainer.default_root_dir=runs/xxl-panx
