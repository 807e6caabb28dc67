"""What a run says about its encoder: a plain dataclass that LightningCLI reads from YAML."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass
class EncoderSpec:
    """The shared encoder of a run; every task head reads its hidden states."""

    name: str = "xlm-roberta-base"
    """Hub name (`xlm-roberta-large`, `facebook/xlm-roberta-xl`, ...), a local `save_pretrained`
    directory (e.g. the `encoder/` an intermediate-task run exports), or an offline preset:
    `tiny`, `small` (random weights, for tests) or `multilingual-e5-small` (pretrained stand-in,
    after `python -m lightning_xfer encoders prepare multilingual-e5-small`)."""
    preset_seed: int = 0
    """Seed of the random weights and tokenizer of the `tiny`/`small` presets."""
    dtype: Literal["float32", "bfloat16", "float16"] | None = None
    """Weight dtype to load; None keeps float32 (use the trainer's `precision` for mixed precision)."""
    attn_implementation: Literal["sdpa", "eager", "flash_attention_2"] | None = "sdpa"
    """Attention kernel; SDPA where the architecture supports it, else the model's default."""
    gradient_checkpointing: bool = False
    """Recompute activations in the backward pass: less memory for large encoders, ~30% slower."""
    hidden_layer: int = -1
    """Which hidden layer the heads read (-1 = last; 0 = embeddings; k = output of layer k, i.e.
    `transformers`' `hidden_states[k]`). Tatoeba and BUCC read XTREME's middle layer
    (`hidden_states[8]` of 12) and LAReQA/Mewsli-X the last, unless a task's `head_layer` says
    otherwise."""
    pooling: Literal["first", "mean", "last"] = "first"
    """How classification and multiple-choice heads get one vector per input: the first token
    (`<s>`/`[CLS]`, the encoders' recipe), the mean of real tokens, or the last non-padding token
    (for a causal decoder used as an encoder). Retrieval tasks keep their benchmark's pooling."""
    freeze_embeddings: bool = False
    """Keep the (large, 250k x hidden) embedding matrix fixed; saves memory and CPU time."""
    frozen_layers: int = 0
    """Also keep the bottom N transformer layers fixed (and the embeddings): the backward pass then
    stops at layer N. A CPU-budget option for quick experiments, not the papers' recipe."""
    revision: str | None = None
    """Hub revision (branch, tag or commit) to pin."""
