"""Checkpoints across processes: `--ckpt_path best|last` in a fresh process, and a checkpoint's
encoder weights (the hand-off into a new run, and the best-checkpoint export).

`--ckpt_path best|last` in a fresh process finds the newest run's checkpoint on disk:

Lightning resolves "best" and "last" only inside the process that ran `fit`. A researcher who runs
`fit` and then `test` as two commands means the run they just trained, so we look under the
trainer's `default_root_dir` for the newest run with checkpoints; "last" is its `last.ckpt` (or its
newest checkpoint), and "best" is the best path its `ModelCheckpoint` state recorded.
"""

from __future__ import annotations

from pathlib import Path

import torch

from lightning_xfer.errors import UserError


def encoder_state(path: str | Path, key: str = "checkpoint") -> dict[str, torch.Tensor]:
    """The `encoder.*` weights of a Lightning checkpoint, keyed as the encoder itself names them;
    `key` names the setting the path came from in the error for a missing file."""
    try:
        saved = torch.load(path, map_location="cpu", weights_only=False)["state_dict"]
    except FileNotFoundError:
        raise UserError(f"{key}: {path} does not exist") from None
    return {key[len("encoder.") :]: value for key, value in saved.items() if key.startswith("encoder.")}


def resolve_checkpoint(alias: str, root: str | Path) -> str:
    """A concrete checkpoint path for `best` or `last` under `root` (newest run first)."""
    candidates = sorted(Path(root).glob("**/checkpoints/*.ckpt"), key=lambda p: p.stat().st_mtime, reverse=True)
    if not candidates:
        raise UserError(f"--ckpt_path {alias}: no run under {root} has a checkpoint; pass a checkpoint file")
    newest_run = candidates[0].parent
    last = newest_run / "last.ckpt" if (newest_run / "last.ckpt").exists() else candidates[0]
    if alias == "last":
        return str(last)
    state = torch.load(last, map_location="cpu", weights_only=False)
    for key, callback_state in state.get("callbacks", {}).items():
        if key.startswith("ModelCheckpoint") and callback_state.get("best_model_path"):
            best = Path(callback_state["best_model_path"])
            if best.exists():
                return str(best)
    return str(last)
