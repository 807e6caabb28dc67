"""The shapes of the named encoder sizes, so parameters are counted offline on the meta device.

The configurations are those of the released checkpoints' `config.json` (XLM-R base and large:
`FacebookAI/xlm-roberta-*`; XL and XXL: `facebook/xlm-roberta-xl`, `-xxl`, Goyal et al. 2021).
Any other name is read with `AutoConfig` (a local folder, or the hub where it is reachable).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import AutoConfig, AutoModel, PretrainedConfig, XLMRobertaConfig, XLMRobertaXLConfig

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


def named_config(name: str) -> PretrainedConfig:
    """The configuration of a named size (`xlm-roberta-xxl`, `facebook/xlm-roberta-xxl`), else
    `AutoConfig` of the name or folder."""
    short = name.rstrip("/").rsplit("/", 1)[-1]
    if short in NAMED:
        return NAMED[short]
    return AutoConfig.from_pretrained(resolve_encoder(name))


def architecture(name: str) -> Architecture:
    """Count `name`'s parameters by building it on the meta device (no memory, no download)."""
    config = named_config(name)
    with torch.device("meta"):
        model = AutoModel.from_config(config, **body_only(config))
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
    )
