"""Offline encoder presets: randomly initialised XLM-R models with a tokenizer trained here.

A preset is built once per (name, seed) into the cache with `save_pretrained`, so it reloads
exactly like a hub model and every code path (AutoModel, AutoTokenizer, hand-off) is the real
one. The weights are random: presets are for tests and the quick start, not for results.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from safetensors.torch import save_file
from transformers import XLMRobertaConfig, XLMRobertaModel

from lightning_xfer import synthetic
from lightning_xfer.cache import cache_dir
from lightning_xfer.encoder.tokenizer_training import train_unigram_tokenizer

PRESET_VERSION = 1  # bump when the recipe changes, so stale caches are rebuilt


@dataclass(frozen=True)
class Preset:
    """The shape of a preset encoder."""

    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    vocab_size: int


PRESETS = {
    "tiny": Preset(hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128, vocab_size=3000),
    "small": Preset(
        hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024, vocab_size=8000
    ),
}


def preset_directory(name: str, seed: int = 0) -> Path:
    """The cached `save_pretrained` folder of a preset, built on first use."""
    preset = PRESETS[name]
    directory = cache_dir("encoders") / f"{name}-seed{seed}-v{PRESET_VERSION}"
    if (directory / "lightning_xfer_preset.json").exists():  # written last: the folder is whole
        return directory
    # A folder of this process's own: the ranks of a multi-process run may all build it at once.
    tmp = directory.with_name(f"{directory.name}.building-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tokenizer = train_unigram_tokenizer(synthetic.corpus(seed), vocab_size=preset.vocab_size)
    config = XLMRobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=preset.hidden_size,
        num_hidden_layers=preset.num_hidden_layers,
        num_attention_heads=preset.num_attention_heads,
        intermediate_size=preset.intermediate_size,
        max_position_embeddings=514,  # XLM-R positions start after the padding index
        type_vocab_size=1,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = XLMRobertaModel(config, add_pooling_layer=False)
    # Not `model.save_pretrained`: under torch.distributed it writes only on rank 0, and every rank of
    # a multi-process run may be the one that builds the preset.
    config.save_pretrained(tmp)
    save_file({name: tensor.contiguous() for name, tensor in model.state_dict().items()},
              tmp / "model.safetensors", metadata={"format": "pt"})  # fmt: skip
    tokenizer.save_pretrained(tmp)
    (tmp / "lightning_xfer_preset.json").write_text(
        json.dumps({"preset": name, "seed": seed, "version": PRESET_VERSION, **asdict(preset)}, indent=2)
    )
    try:
        tmp.replace(directory)
    except OSError:  # another process finished first; its copy is identical
        shutil.rmtree(tmp, ignore_errors=True)
    return directory
