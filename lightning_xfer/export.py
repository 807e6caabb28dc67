"""Export the trained encoder as a plain `save_pretrained` folder: the hand-off to the next phase.

The folder loads anywhere a hub name does (`model.encoder.name: <run>/encoder`), with the tokenizer
beside it, so a target-task run starts from the intermediate-task encoder with fresh heads.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback

from lightning_xfer.encoder.loading import load_tokenizer


class ExportEncoder(Callback):
    """Write `<log dir>/encoder/` (or `dirpath`) when `fit` ends."""

    def __init__(self, enabled: bool = True, dirpath: str | None = None):
        """
        Args:
            enabled: Export at the end of `fit`.
            dirpath: Where to write; default `<log dir>/encoder`.
        """
        self.enabled = enabled
        self.dirpath = dirpath

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not self.enabled or not trainer.is_global_zero or trainer.interrupted:
            return
        directory = Path(self.dirpath or Path(trainer.log_dir or trainer.default_root_dir) / "encoder")
        export_encoder(pl_module, directory, source=trainer.log_dir)
        print(f"encoder exported to {directory}")


def export_encoder(pl_module: pl.LightningModule, directory: Path, source: str | None = None) -> Path:
    """Save the module's encoder and its tokenizer, with a note of where they came from."""
    directory.mkdir(parents=True, exist_ok=True)
    spec = pl_module.encoder_spec
    pl_module.encoder.save_pretrained(directory)
    load_tokenizer(spec.name, spec.preset_seed).save_pretrained(directory)
    note = {"exported_from_run": source, "base_encoder": spec.name, "trained_tasks": list(pl_module.tasks)}
    (directory / "lightning_xfer_export.json").write_text(json.dumps(note, indent=2))
    return directory
