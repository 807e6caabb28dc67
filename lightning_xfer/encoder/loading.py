"""Turn an `EncoderSpec` into a Hugging Face encoder and its tokenizer.

Names resolve in this order: an offline preset, a prepared stand-in, a local directory, then the
Hugging Face hub. Everything after resolution is plain `AutoModel`/`AutoTokenizer`, so a hub
model, a preset and an exported intermediate-task encoder load through the same code.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModel, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase
from transformers.utils import logging as hf_logging

from lightning_xfer.encoder.spec import EncoderSpec
from lightning_xfer.errors import UserError

hf_logging.disable_progress_bar()


def resolve_encoder(name: str, preset_seed: int = 0) -> str:
    """The hub id or local directory that `from_pretrained` should read for `name`."""
    from lightning_xfer.encoder import multilingual_e5_small, presets

    if name in presets.PRESETS:
        return str(presets.preset_directory(name, preset_seed))
    if name == multilingual_e5_small.NAME:
        return str(multilingual_e5_small.prepared_directory())
    return name


def base_encoder_name(name: str) -> str:
    """The pretrained encoder a name stands for, without organisation or folder: the name itself, or
    for a folder exported by a run (the intermediate -> target hand-off) the encoder that run
    started from, followed back to the start.

    Per-size settings (`model.learning_rate_by_encoder`) key on this, so a target run on an exported
    XLM-R large encoder gets large's learning rate.
    """
    seen = set()
    while name not in seen:
        seen.add(name)
        note = Path(name).expanduser() / "lightning_xfer_export.json"
        if not note.is_file():
            break
        name = json.loads(note.read_text()).get("base_encoder") or name
    return name.rstrip("/").rsplit("/", 1)[-1]  # `FacebookAI/xlm-roberta-large`, `/models/xlm-roberta-large`


def load_tokenizer(spec: EncoderSpec | str) -> PreTrainedTokenizerBase:
    """The encoder's fast tokenizer (offsets and word ids need a fast one), at the spec's revision."""
    spec = EncoderSpec(name=spec) if isinstance(spec, str) else spec
    source = resolve_encoder(spec.name, spec.preset_seed)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, revision=spec.revision)
    except (OSError, ValueError) as error:
        raise _not_loadable(spec.name, source, error) from error
    if not tokenizer.is_fast:
        raise UserError(f"encoder {spec.name!r} has no fast tokenizer; span QA offsets and word alignment need one")
    return tokenizer


def load_encoder(spec: EncoderSpec, empty: bool = False) -> PreTrainedModel:
    """The pretrained encoder body (no task head, no pooler) as `spec` describes it.

    `empty` builds the architecture on the meta device without reading any weights: the ranks of a
    sharded run other than rank 0, which receive their shards from it (`scale/fsdp2.py`).
    """
    source = resolve_encoder(spec.name, spec.preset_seed)
    try:
        config = AutoConfig.from_pretrained(source, revision=spec.revision)
    except (OSError, ValueError) as error:
        raise _not_loadable(spec.name, source, error) from error
    kwargs = {"revision": spec.revision}
    if spec.dtype is not None:
        kwargs["dtype"] = getattr(torch, spec.dtype)
    model_class = AutoModel._model_mapping[type(config)]
    kwargs.update(body_only(config))
    if spec.attn_implementation is not None and getattr(model_class, "_supports_sdpa", False):
        kwargs["attn_implementation"] = spec.attn_implementation
    if empty:
        kwargs.pop("revision")
        with torch.device("meta"):
            model = AutoModel.from_config(config, **kwargs)
    else:
        model = AutoModel.from_pretrained(source, config=config, **kwargs)
    if spec.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if spec.freeze_embeddings or spec.frozen_layers:
        model.get_input_embeddings().requires_grad_(False)
        for name, parameter in model.named_parameters():
            if "embeddings" in name.split(".")[0:2]:
                parameter.requires_grad_(False)  # positions, types and their LayerNorm too
    if spec.frozen_layers:
        layers = transformer_layers(model)
        if spec.frozen_layers > len(layers):
            raise UserError(
                f"model.encoder.frozen_layers={spec.frozen_layers}, but {spec.name} has {len(layers)} layers"
            )
        for layer in layers[: spec.frozen_layers]:
            layer.requires_grad_(False)
    return model


def body_only(config) -> dict[str, bool]:
    """`AutoModel` arguments that leave out the pooler where the architecture has one: the heads
    pool for themselves, so it would be unused weight."""
    model_class = AutoModel._model_mapping[type(config)]
    return (
        {"add_pooling_layer": False}
        if "add_pooling_layer" in inspect.signature(model_class.__init__).parameters
        else {}
    )


def transformer_layers(model: PreTrainedModel) -> torch.nn.ModuleList:
    """The stack of transformer layers, whatever the architecture calls it (layer, block, layers)."""
    count = model.config.num_hidden_layers
    for module in model.modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) == count:
            return module
    raise UserError(f"cannot find the {count} transformer layers of {type(model).__name__}")


def _not_loadable(name: str, source: str, error: Exception) -> UserError:
    if Path(source).exists():
        return UserError(f"encoder directory {source} cannot be loaded: {error}")
    return UserError(
        f"cannot load encoder {name!r}: it is not a local directory, not an offline preset "
        f"(tiny, small, multilingual-e5-small), and the Hugging Face hub did not provide it "
        f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}). "
        "Check the name, or download it where the hub is reachable and pass the directory."
    )
