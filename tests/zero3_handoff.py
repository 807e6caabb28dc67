"""Load an adapter hand-off inside DeepSpeed ZeRO-3's partitioned construction on CPU processes and
write the gathered weights (rank 0), for tests/test_adapters.py. Run as one process of a gloo group:
    RANK=r WORLD_SIZE=2 ... python tests/zero3_handoff.py FOLDER OUT_DIR
"""

import os
import sys

import deepspeed
import torch
from transformers.integrations.deepspeed import HfDeepSpeedConfig

from lightning_xfer.encoder.loading import load_encoder
from lightning_xfer.encoder.spec import EncoderSpec

folder, out = sys.argv[1:3]
deepspeed.init_distributed(dist_backend="gloo")
config = {"zero_optimization": {"stage": 3}, "train_micro_batch_size_per_gpu": 1}
keep = HfDeepSpeedConfig(config)  # from_pretrained loads into the partitions while it lives
for handoff in ("merge", "stack"):
    with deepspeed.zero.Init(config_dict_or_path=config):
        model = load_encoder(EncoderSpec(name=folder, tuning="lora", lora_rank=4, adapter_handoff=handoff))
    with deepspeed.zero.GatheredParameters(list(model.parameters())):
        state = {key: value.detach().clone() for key, value in model.state_dict().items()}
    if int(os.environ["RANK"]) == 0:
        torch.save(state, f"{out}/{handoff}.pt")
