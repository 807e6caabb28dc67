"""Parameter-efficient training with `peft`: LoRA on the shared encoder, and adapters across the
intermediate -> target hand-off.

A run with `model.encoder.tuning: lora` freezes the encoder's weights and trains LoRA matrices on
its linear layers (every one in the transformer layers unless `lora_target_modules` names some),
and the heads. Its export is an adapter folder: the adapter (peft's `save_pretrained`), the
tokenizer and the note whose `base_encoder` names the encoder the adapter belongs on (a hub name, a
preset, or another export folder: chains are followed). A run whose `model.encoder.name` is such a
folder starts from the base with the adapter either

- `merge`d into the weights (`adapter_handoff: merge`, the default): the target phase then sees an
  ordinary encoder and fine-tunes it fully or with a fresh LoRA of its own; or
- kept and `stack`ed (`adapter_handoff: stack`, with `tuning: lora`): the intermediate adapter stays
  a separate, frozen adapter under the target's new one, so the base weights are never changed.
"""

from __future__ import annotations

import json
from pathlib import Path

from torch import nn

from lightning_xfer.errors import UserError

OWN_ADAPTER = "default"
"""The adapter a LoRA run trains (peft's default name); adapters handed on are `handoff0`, ..."""


def adapter_base(source: str | Path) -> str | None:
    """The encoder an adapter folder belongs on, or None when `source` is not an adapter folder."""
    folder = Path(source).expanduser()
    if not (folder / "adapter_config.json").is_file() or (folder / "config.json").is_file():
        return None
    note = folder / "lightning_xfer_export.json"
    if not note.is_file():
        raise UserError(f"{folder} holds an adapter but no lightning_xfer_export.json naming its base encoder")
    base = json.loads(note.read_text()).get("base_encoder")
    if not base:
        raise UserError(f"{note}: `base_encoder` (the encoder this adapter belongs on) is missing")
    return base


def _peft():
    try:
        import peft
    except ImportError:
        raise UserError("model.encoder.tuning=lora and adapter hand-offs need peft: pip install -e '.[peft]'") from None
    return peft


def attach_handoff(model: nn.Module, folder: str | Path, handoff: str, empty: bool) -> nn.Module:
    """`model` with the adapter of `folder` merged into its weights, or stacked as a frozen adapter.

    `empty` (a model on the meta device, for a rank that receives its weights): only the structure
    is built; merging leaves the structure as it is. Under DeepSpeed ZeRO-3 (parameters partitioned
    as they are built) the adapter is created partitioned and filled, and merged, one module at a
    time, so the base is never gathered whole.
    """
    peft = _peft()
    folder = str(folder)
    if handoff == "merge" and empty:
        return model
    if handoff == "merge" and not _partitioned(model):
        if isinstance(model, peft.PeftModel):  # an adapter stacked further down the chain: merge it too
            model = model.merge_and_unload()
        return peft.PeftModel.from_pretrained(model, folder).merge_and_unload()
    name = f"handoff{len(model.peft_config) if isinstance(model, peft.PeftModel) else 0}"
    if empty or _partitioned(model):
        config = peft.LoraConfig.from_pretrained(folder)
        if isinstance(model, peft.PeftModel):
            model.add_adapter(name, config)
        else:
            model = peft.get_peft_model(model, config, adapter_name=name)
        if not empty:
            _fill_partitioned(model, peft.utils.load_peft_weights(folder), name)
            if handoff == "merge":
                return _merge_partitioned(model)
        for parameter_name, parameter in model.named_parameters():
            if f".{name}." in parameter_name:
                parameter.requires_grad_(False)
        return model
    if isinstance(model, peft.PeftModel):
        model.load_adapter(folder, adapter_name=name, is_trainable=False)
        return model
    return peft.PeftModel.from_pretrained(model, folder, adapter_name=name, is_trainable=False)


def _partitioned(model: nn.Module) -> bool:
    """Whether DeepSpeed ZeRO-3 partitioned the model's parameters as they were built."""
    return any(hasattr(parameter, "ds_id") for parameter in model.parameters())


def _fill_partitioned(model: nn.Module, weights: dict, name: str) -> None:
    """Copy saved adapter weights (peft's keys, without the adapter name) into the partitions."""
    import deepspeed

    parameters = dict(model.named_parameters())
    for key, value in weights.items():
        target = key.replace(".lora_A.", f".lora_A.{name}.").replace(".lora_B.", f".lora_B.{name}.")
        if target not in parameters:
            raise UserError(f"adapter weight {key} does not fit the encoder (no parameter {target})")
        with deepspeed.zero.GatheredParameters([parameters[target]], modifier_rank=0):
            parameters[target].data.copy_(value)


def _merge_partitioned(model: nn.Module) -> nn.Module:
    """Merge every adapter into its base weight module by module, then drop the adapters."""
    import deepspeed
    from peft.tuners.lora import LoraLayer

    for module in model.modules():
        if isinstance(module, LoraLayer):
            with deepspeed.zero.GatheredParameters(list(module.parameters()), modifier_rank=0):
                module.merge()
    return model.unload()


def add_lora(model: nn.Module, rank: int, alpha: int, dropout: float, target_modules: list[str] | None) -> nn.Module:
    """`model` frozen, with a new trainable LoRA adapter (`OWN_ADAPTER`) on top of any handed on."""
    peft = _peft()
    config = peft.LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout,
                             target_modules=target_modules or "all-linear")  # fmt: skip
    if not isinstance(model, peft.PeftModel):
        model = peft.get_peft_model(model, config, adapter_name=OWN_ADAPTER)
    else:
        model.add_adapter(OWN_ADAPTER, config)
        model.base_model.set_adapter(list(model.peft_config))  # every stacked adapter stays active ...
        for name, parameter in model.named_parameters():  # ... and only this run's own trains
            parameter.requires_grad_(f".{OWN_ADAPTER}." in name)
    if _partitioned(model):
        _initialise_partitioned(model)
    return model


def _initialise_partitioned(model: nn.Module) -> None:
    """peft's initialisation (B = 0, so training starts from the encoder as it was) on ZeRO-3
    partitions: peft initialises in place after construction, which on a partitioned parameter (an
    empty placeholder) changes nothing and leaves `nn.Linear`'s random B."""
    import deepspeed
    from peft.tuners.lora import LoraLayer

    for module in model.modules():
        if isinstance(module, LoraLayer) and OWN_ADAPTER in module.lora_A:
            adapter = [module.lora_A[OWN_ADAPTER].weight, module.lora_B[OWN_ADAPTER].weight]
            with deepspeed.zero.GatheredParameters(adapter, modifier_rank=0):
                module.reset_lora_parameters(OWN_ADAPTER, True)


def is_adapted(model: nn.Module) -> bool:
    """Whether the encoder carries LoRA adapters (its export is then an adapter folder)."""
    try:
        import peft
    except ImportError:
        return False
    return isinstance(model, peft.PeftModel)


def body(model: nn.Module) -> nn.Module:
    """The transformers model under any adapters (its `forward` signature is the model's own)."""
    return model.get_base_model() if is_adapted(model) else model
