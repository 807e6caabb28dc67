"""What a run says about its encoder: a plain dataclass that LightningCLI reads from YAML."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass
class EncoderSpec:
    """The shared encoder of a run; every task head reads its hidden states."""

    name: str = "xlm-roberta-base"
    """Hub name (`xlm-roberta-large`, `facebook/xlm-roberta-xl`, `google/mt5-xl` (its encoder stack),
    `bigscience/bloom-7b1` or any decoder-only `AutoModel` LM, ...), a local `save_pretrained`
    directory (e.g. the `encoder/` an intermediate-task run exports), or an offline preset:
    `tiny`, `small`, `tiny-mt5`, `tiny-bloom`, `tiny-llama` (random weights, for tests) or
    `multilingual-e5-small` (pretrained stand-in, after
    `python -m lightning_xfer encoders prepare multilingual-e5-small`)."""
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
    pooling: Literal["auto", "first", "mean", "last"] = "auto"
    """How classification and multiple-choice heads get one vector per input: the first token
    (`<s>`/`[CLS]`, the encoders' recipe), the mean of real tokens, or the last non-padding token
    (for a causal decoder used as an encoder); `auto` is `first` for encoders (XLM-R, mT5) and
    `last` for decoder-only models (BLOOM, Llama, Qwen). Retrieval tasks keep their benchmark's
    pooling (a causal model reads `last` where it says `first`)."""
    freeze_embeddings: bool = False
    """Keep the (large, 250k x hidden) embedding matrix fixed; saves memory and CPU time."""
    frozen_layers: int = 0
    """Also keep the bottom N transformer layers fixed (and the embeddings): the backward pass then
    stops at layer N. A CPU-budget option for quick experiments, not the papers' recipe."""
    revision: str | None = None
    """Hub revision (branch, tag or commit) to pin."""
    tuning: Literal["full", "lora"] = "full"
    """What this run trains of the encoder: every weight (`full`), or LoRA adapters on frozen weights
    (`lora`, through `peft`; load the weights in bfloat16 with `dtype` to halve their memory). Set per
    phase: an intermediate run and its target runs may differ. A LoRA run exports an adapter folder."""
    lora_rank: int = 16
    """Rank r of the LoRA matrices (A: r x in, B: out x r)."""
    lora_alpha: int = 32
    """LoRA scaling numerator: the update is (alpha / r) B A."""
    lora_dropout: float = 0.05
    """Dropout on the LoRA branch's input."""
    lora_target_modules: list[str] | None = None
    """Names (suffixes) of the linear layers that get adapters; None: every linear layer of the
    transformer layers (peft's `all-linear`), which the planner counts."""
    adapter_handoff: Literal["merge", "stack"] = "merge"
    """When `name` is an adapter folder (a LoRA run's export): `merge` the adapter into the base
    weights, or `stack` it as a frozen adapter under this run's own LoRA (needs `tuning: lora`). With
    `tuning: lora` on bf16/fp16 weights, `merge` stacks too: the same function, without rounding the
    merged weights to 8 significant bits (which loses most of a small delta)."""
