"""Export the trained encoder as a plain `save_pretrained` folder: the hand-off to the next phase.

The folder loads anywhere a hub name does (`model.encoder.name: <run>/encoder`), with the tokenizer
beside it, so a target-task run starts from the intermediate-task encoder with fresh heads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback
from transformers import PreTrainedTokenizerBase

from lightning_xfer.checkpoints import checkpoint_hyperparameters, encoder_state
from lightning_xfer.encoder.adapters import OWN_ADAPTER, is_adapted
from lightning_xfer.encoder.loading import load_encoder, load_tokenizer
from lightning_xfer.encoder.spec import EncoderSpec
from lightning_xfer.errors import UserError
from lightning_xfer.results import run_directory


class ExportEncoder(Callback):
    """Write `<run directory>/encoder/` (or `dirpath`) when `fit` ends."""

    def __init__(self, enabled: bool = True, dirpath: str | None = None, weights: Literal["best", "final"] = "best"):
        """
        Args:
            enabled: Export at the end of `fit`.
            dirpath: Where to write; default `encoder/` in the run's directory.
            weights: `best`: the encoder of the best checkpoint by the monitored validation score
                (model selection, as XTREME does), falling back to the final weights when nothing is
                monitored; `final`: the weights at the end of training.
        """
        self.enabled = enabled
        self.dirpath = dirpath
        self.weights = weights

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not self.enabled or not trainer.is_global_zero or trainer.interrupted:
            return
        directory = Path(self.dirpath) if self.dirpath else run_directory(trainer) / "encoder"
        checkpoint = None
        callback = trainer.checkpoint_callback
        if self.weights == "best" and callback is not None and callback.monitor and callback.best_model_path:
            checkpoint = callback.best_model_path
        if checkpoint is None and parameters_are_sharded(trainer.strategy):
            # This rank holds only its shard of the final weights; the saved checkpoint holds them
            # all, and `encoder_state` consolidates it with the strategy's own utilities.
            checkpoint = callback.last_model_path if callback is not None else None
            if not checkpoint:
                print(
                    "lightning_xfer: warning: encoder not exported: under a sharded strategy the final weights "
                    "are split across processes; keep a checkpoint (ModelCheckpoint save_last: true) to export from"
                )
                return
        tokenizer = trainer.datamodule.tokenizer
        export_encoder(pl_module, directory, tokenizer, source=str(run_directory(trainer)), checkpoint=checkpoint)
        print(f"encoder exported to {directory} (from {checkpoint or 'the final weights'})")


def parameters_are_sharded(strategy) -> bool:
    """Whether each process holds only part of the weights (DeepSpeed ZeRO-3, FSDP, ModelParallel)."""
    sharded = ("FSDPStrategy", "ModelParallelStrategy")  # and their subclasses (FSDP2Strategy)
    return bool(getattr(strategy, "zero_stage_3", False)) or any(c.__name__ in sharded for c in type(strategy).__mro__)


def export_encoder(
    pl_module: pl.LightningModule,
    directory: Path,
    tokenizer: PreTrainedTokenizerBase,
    source: str | None = None,
    checkpoint: str | None = None,
) -> Path:
    """Save the module's encoder (or `checkpoint`'s encoder weights: a file or a sharded checkpoint
    folder) and the run's tokenizer, with a note."""
    state = encoder_state(checkpoint, adapters_only=is_adapted(pl_module.encoder)) if checkpoint is not None else None
    note = {"exported_from_run": source, "checkpoint": checkpoint, "trained_tasks": list(pl_module.tasks)}
    return _write_folder(pl_module.encoder, state, tokenizer, pl_module.encoder_spec, directory, note)


def consolidate(checkpoint: str | Path, directory: str | Path) -> Path:
    """Turn a checkpoint (a `.ckpt` file, a DeepSpeed ZeRO folder or a torch.distributed.checkpoint
    folder from FSDP2) into a `save_pretrained` encoder folder, in this one process.

    The encoder's settings come from the checkpoint's own hyperparameters; the architecture is built
    on the meta device and the consolidated weights are written straight out, so the full model is
    held in memory once.
    """
    checkpoint = Path(checkpoint)
    hyperparameters = checkpoint_hyperparameters(checkpoint)
    if "encoder" not in hyperparameters:
        raise UserError(f"consolidate: {checkpoint} records no encoder (not a lightning_xfer checkpoint?)")
    spec = EncoderSpec(**hyperparameters["encoder"])
    encoder = load_encoder(spec, empty=True)
    state = encoder_state(checkpoint, "consolidate", adapters_only=is_adapted(encoder))
    note = {"consolidated_from": str(checkpoint), "checkpoint": str(checkpoint)}
    return _write_folder(encoder, state, load_tokenizer(spec), spec, Path(directory), note)


def _write_folder(encoder, state, tokenizer: PreTrainedTokenizerBase, spec: EncoderSpec, directory: Path, note: dict):
    directory.mkdir(parents=True, exist_ok=True)
    if is_adapted(encoder):  # a LoRA run: its own adapter; the note's base_encoder says where it belongs
        encoder.save_pretrained(directory, state_dict=state, selected_adapters=[OWN_ADAPTER])
        note = {**note, "adapter": OWN_ADAPTER}
    else:
        encoder.save_pretrained(directory, state_dict=state)
    tokenizer.save_pretrained(directory)
    note = {**note, "base_encoder": spec.name}
    (directory / "lightning_xfer_export.json").write_text(json.dumps(note, indent=2))
    return directory
