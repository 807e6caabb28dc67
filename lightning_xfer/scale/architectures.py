"""The shapes of the named encoder sizes, so parameters are counted offline on the meta device.

The configurations are those of the released checkpoints' `config.json`: XLM-R base and large
(`FacebookAI/xlm-roberta-*`), XL and XXL (`facebook/xlm-roberta-xl`, `-xxl`, Goyal et al. 2021);
mT5 small to XXL (`google/mt5-*`, Xue et al. 2021), of which the encoder stack is counted (what
lightning_xfer loads: about 45% of the whole model, the embeddings included once); BLOOM 560M to
176B (`bigscience/bloom-*`, `bigscience/bloom`). Any other name is read with `AutoConfig` (a local
folder, or the hub where it is reachable).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import AutoConfig, BloomConfig, MT5Config, PretrainedConfig, XLMRobertaConfig, XLMRobertaXLConfig

from lightning_xfer.encoder.kinds import EncoderKind, body_class, kind_of
from lightning_xfer.encoder.loading import body_only, resolve_encoder, transformer_layers

_XLMR = {"vocab_size": 250002, "max_position_embeddings": 514, "type_vocab_size": 1, "layer_norm_eps": 1e-5}
_XLMR_XL = {"vocab_size": 250880, "max_position_embeddings": 514, "type_vocab_size": 1, "layer_norm_eps": 1e-5}
NAMED: dict[str, PretrainedConfig] = {
    "xlm-roberta-base": XLMRobertaConfig(
        hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072, **_XLMR
    ),
    "xlm-roberta-large": XLMRobertaConfig(
        hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096, **_XLMR
    ),
    "xlm-roberta-xl": XLMRobertaXLConfig(
        hidden_size=2560, num_hidden_layers=36, num_attention_heads=32, intermediate_size=10240, **_XLMR_XL
    ),
    "xlm-roberta-xxl": XLMRobertaXLConfig(
        hidden_size=4096, num_hidden_layers=48, num_attention_heads=32, intermediate_size=16384, **_XLMR_XL
    ),
}
_MT5 = {"vocab_size": 250112, "d_kv": 64, "feed_forward_proj": "gated-gelu", "tie_word_embeddings": False}
NAMED.update({
    f"mt5-{size}": MT5Config(d_model=d_model, d_ff=d_ff, num_heads=heads, num_layers=layers, **_MT5)
    for size, (d_model, d_ff, heads, layers) in {
        "small": (512, 1024, 6, 8), "base": (768, 2048, 12, 12), "large": (1024, 2816, 16, 24),
        "xl": (2048, 5120, 32, 24), "xxl": (4096, 10240, 64, 24),
    }.items()
})  # fmt: skip
NAMED.update({
    name: BloomConfig(vocab_size=250880, hidden_size=hidden, n_layer=layers, n_head=heads)
    for name, (hidden, layers, heads) in {
        "bloom-560m": (1024, 24, 16), "bloom-1b1": (1536, 24, 16), "bloom-1b7": (2048, 24, 16),
        "bloom-3b": (2560, 30, 32), "bloom-7b1": (4096, 30, 32), "bloom": (14336, 70, 112),
    }.items()
})  # fmt: skip
NAMED["bloom-176b"] = NAMED["bloom"]  # the hub calls it `bigscience/bloom`

LORA_RANK = 16
"""The LoRA rank the planner counts unless told otherwise (`model.encoder.lora_rank`'s default)."""


@dataclass(frozen=True)
class Architecture:
    """What the planner needs to know of an encoder, counted on the meta device."""

    name: str
    parameters: int
    """Parameters of the encoder body as lightning_xfer loads it (no pooler, no task head)."""
    largest_module_parameters: int
    """The most parameters any one module holds directly (DeepSpeed's "largest layer": for XLM-R
    the word-embedding matrix), which ZeRO-3 gathers whole."""
    largest_unit_parameters: int
    """The most parameters of one FSDP2 unit as `scale/fsdp2.py` wraps them: a transformer layer,
    or the encoder's root (embeddings and final norms)."""
    hidden_size: int
    num_layers: int
    num_heads: int
    kind: EncoderKind = "bidirectional"
    adapter_parameters: int = 0
    """Parameters LoRA of rank `lora_rank` adds on every linear layer of the transformer layers
    (peft's `all-linear`, what `model.encoder.tuning: lora` trains): r x (in + out) each."""
    lora_rank: int = LORA_RANK
    attention: str = "sdpa"
    """The attention kernel a run gets (`model.encoder.attn_implementation: sdpa` where the model
    class supports it): `sdpa` keeps no attention matrices, `eager` (BLOOM) keeps them for backward."""


def named_config(name: str) -> PretrainedConfig:
    """The configuration of a named size (`xlm-roberta-xxl`, `facebook/xlm-roberta-xxl`), else
    `AutoConfig` of the name or folder."""
    short = name.rstrip("/").rsplit("/", 1)[-1]
    if short in NAMED:
        return NAMED[short]
    return AutoConfig.from_pretrained(resolve_encoder(name))


def architecture(name: str, lora_rank: int = LORA_RANK) -> Architecture:
    """Count `name`'s parameters by building it on the meta device (no memory, no download)."""
    config = named_config(name)
    with torch.device("meta"):
        model = body_class(config)._from_config(config, **body_only(config))
    layers = transformer_layers(model)
    in_layers = {id(p) for p in layers.parameters()}
    root = sum(p.numel() for p in model.parameters() if id(p) not in in_layers)
    per_layer = max(sum(p.numel() for p in layer.parameters()) for layer in layers)
    largest_module = max(sum(p.numel() for p in m.parameters(recurse=False)) for m in model.modules())
    return Architecture(
        name=name,
        parameters=sum(p.numel() for p in model.parameters()),
        largest_module_parameters=largest_module,
        largest_unit_parameters=max(root, per_layer),
        hidden_size=config.hidden_size,
        num_layers=config.num_hidden_layers,
        num_heads=config.num_attention_heads,
        kind=kind_of(config),
        adapter_parameters=sum(
            lora_rank * (m.in_features + m.out_features) for m in layers.modules() if isinstance(m, nn.Linear)
        ),
        lora_rank=lora_rank,
        attention="sdpa" if getattr(body_class(config), "_supports_sdpa", False) else "eager",
    )
