"""Turn an `EncoderSpec` into a Hugging Face encoder and its tokenizer.

Names resolve in this order: an offline preset, a prepared stand-in, a local directory, then the
Hugging Face hub. Everything after resolution is plain `AutoModel`/`AutoTokenizer`, so a hub
model, a preset and an exported intermediate-task encoder load through the same code.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import warnings
from pathlib import Path

import torch
from transformers import AutoConfig, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase
from transformers.utils import logging as hf_logging

from lightning_xfer.encoder.adapters import adapter_base, add_lora, attach_handoff
from lightning_xfer.encoder.kinds import EncoderKind, body_class, kind_of
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
    if tokenizer.pad_token is None:
        # Decoder-only tokenizers (Llama-family) often have none. Padding is always masked out of
        # attention, pooling and losses, so which token fills it does not change any result.
        filler = tokenizer.eos_token or tokenizer.unk_token
        if filler is None:
            raise UserError(f"encoder {spec.name!r}: its tokenizer has no pad, end-of-sequence or unknown token")
        tokenizer.pad_token = filler
    return tokenizer


def load_encoder(spec: EncoderSpec, empty: bool = False) -> PreTrainedModel:
    """The pretrained encoder body (no task head, no pooler) as `spec` describes it.

    `empty` builds the architecture on the meta device without reading any weights: the ranks of a
    sharded run other than rank 0, which receive their shards from it (`scale/fsdp2.py`).
    """
    source = resolve_encoder(spec.name, spec.preset_seed)
    if spec.adapter_handoff == "stack" and spec.tuning != "lora" and adapter_base(source) is not None:
        raise UserError(
            f"model.encoder.adapter_handoff=stack keeps {spec.name}'s adapter frozen under this run's own "
            "LoRA; set model.encoder.tuning=lora, or adapter_handoff=merge to fine-tune the merged weights"
        )
    return _with_own_tuning(_load_body(spec, source, empty), spec)


def _load_body(spec: EncoderSpec, source: str, empty: bool) -> PreTrainedModel:
    """The encoder with the adapters handed on to it, before this run's own tuning."""
    base = adapter_base(source)
    if base is not None:  # an adapter folder (a LoRA run's export): its base, with the adapter on it
        # Further down a chain (a target's adapter on an intermediate's), hand-offs go the same way.
        base_spec = dataclasses.replace(spec, name=base)
        base_model = _load_body(base_spec, resolve_encoder(base, spec.preset_seed), empty)
        return attach_handoff(base_model, source, _handoff(spec), empty)
    try:
        config = AutoConfig.from_pretrained(source, revision=spec.revision)
    except (OSError, ValueError) as error:
        raise _not_loadable(spec.name, source, error) from error
    kwargs = {"revision": spec.revision}
    if spec.dtype is not None:
        kwargs["dtype"] = getattr(torch, spec.dtype)
    model_class = body_class(config)  # the encoder stack alone for mT5; AutoModel's body otherwise
    kwargs.update(body_only(config))
    if spec.attn_implementation is not None and getattr(model_class, "_supports_sdpa", False):
        kwargs["attn_implementation"] = spec.attn_implementation
    if empty:
        kwargs.pop("revision")
        with torch.device("meta"):
            model = model_class._from_config(config, **kwargs)
    else:
        model = model_class.from_pretrained(source, config=config, **kwargs)
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


HALF_PRECISION = ("bfloat16", "float16")


def _handoff(spec: EncoderSpec) -> str:
    """How an adapter handed on is attached: as `spec.adapter_handoff` says, except that a merge into
    half-precision weights under this run's own LoRA keeps the adapter frozen beside them instead.

    A merged weight is stored in the weights' dtype, and bf16 keeps 8 significant bits: added to a
    bf16 weight, a delta of 1e-3 of it loses ~80% of itself and one of 1e-2 ~17%, however precisely
    the sum is computed. Kept beside frozen weights, the adapter gives the merged function exactly.
    """
    if spec.adapter_handoff != "merge" or spec.dtype not in HALF_PRECISION:
        return spec.adapter_handoff
    if spec.tuning == "lora":
        return "stack"
    warnings.warn(
        f"model.encoder.adapter_handoff=merge into {spec.dtype} weights rounds away most of a small adapter "
        "delta (~80% of one of 1e-3 of the weight); to fine-tune the merged weights fully, load them in "
        "float32 (model.encoder.dtype=float32) and train with bf16-mixed precision",
        stacklevel=3,
    )
    return "merge"


def _with_own_tuning(model: PreTrainedModel, spec: EncoderSpec) -> PreTrainedModel:
    if spec.tuning == "lora":
        return add_lora(model, spec.lora_rank, spec.lora_alpha, spec.lora_dropout, spec.lora_target_modules)
    return model


def encoder_kind(spec: EncoderSpec | str) -> EncoderKind:
    """Whether the spec's encoder is bidirectional, an encoder-decoder's encoder stack, or causal
    (read from its config alone: no weights)."""
    spec = EncoderSpec(name=spec) if isinstance(spec, str) else spec
    source = resolve_encoder(spec.name, spec.preset_seed)
    base = adapter_base(source)
    if base is not None:
        return encoder_kind(dataclasses.replace(spec, name=base))
    try:
        return kind_of(AutoConfig.from_pretrained(source, revision=spec.revision))
    except (OSError, ValueError) as error:
        raise _not_loadable(spec.name, source, error) from error


def body_only(config) -> dict[str, bool]:
    """`AutoModel` arguments that leave out the pooler where the architecture has one: the heads
    pool for themselves, so it would be unused weight."""
    model_class = body_class(config)
    return (
        {"add_pooling_layer": False}
        if "add_pooling_layer" in inspect.signature(model_class.__init__).parameters
        else {}
    )


def pretrained_pooler(spec: EncoderSpec) -> dict[str, torch.Tensor]:
    """The checkpoint's pooler (`weight` and `bias` of `*pooler.dense`), which `load_encoder` leaves
    out; {} when the checkpoint has none (multilingual-e5-small's conversion, adapter folders) or
    keeps its weights in a format other than safetensors."""
    from safetensors import safe_open
    from transformers.utils import cached_file

    source = resolve_encoder(spec.name, spec.preset_seed)
    if adapter_base(source) is not None:
        return {}
    files = []
    for name in ("model.safetensors", "model.safetensors.index.json"):
        path = cached_file(source, name, revision=spec.revision, _raise_exceptions_for_missing_entries=False)
        if path is None:
            continue
        if name.endswith(".json"):
            shards = {s for k, s in json.loads(Path(path).read_text())["weight_map"].items() if "pooler" in k}
            files += [cached_file(source, shard, revision=spec.revision) for shard in sorted(shards)]
        else:
            files.append(path)
        break
    weights = {}
    for file in files:
        with safe_open(file, "pt") as handle:
            for key in handle.keys():  # noqa: SIM118 (a safetensors handle is not a dict)
                if key.endswith(("pooler.dense.weight", "pooler.dense.bias")):
                    weights[key.rsplit(".", 1)[1]] = handle.get_tensor(key)
    return weights


def transformer_layers(model: PreTrainedModel) -> torch.nn.ModuleList:
    """The stack of transformer layers, whatever the architecture calls it (layer, block, layers)."""
    count = model.config.num_hidden_layers
    stacks = [m for m in model.modules() if isinstance(m, torch.nn.ModuleList) and len(m) == count]
    # Prefer the stack of the layer classes the model declares unsplittable (`XLMRobertaLayer`,
    # `MT5Block`, `BloomBlock`, `LlamaDecoderLayer`): the units FSDP2 wraps and devices never split.
    declared = set(getattr(model, "_no_split_modules", None) or ())
    for module in stacks:
        if type(module[0]).__name__ in declared:
            return module
    if stacks:
        return stacks[0]
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
