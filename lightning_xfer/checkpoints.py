"""Checkpoints across processes: which run `--ckpt_path best|last` means, and a checkpoint's
encoder weights wherever they are (the hand-off into a new run, and the best-checkpoint export).

A run is a directory (`<trainer.default_root_dir>/lightning_logs/version_N`, a W&B run's folder, ...)
holding `checkpoints/`. Lightning resolves "best" and "last" only inside the process that ran
`fit`; in a fresh process we resolve them inside one run: the run the logger's version names, else
the only run under `trainer.default_root_dir`. When that root holds several runs the alias is
ambiguous, and we say so instead of guessing: "the newest run" is someone else's run as soon as
two jobs share a root.

Every load uses `weights_only=True`: a checkpoint is data, never code. Sharded checkpoints (a
DeepSpeed ZeRO directory, a torch.distributed.checkpoint directory from FSDP's `sharded` state
dict) are consolidated with the strategy's own utilities.
"""

from __future__ import annotations

import pickle
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch

from lightning_xfer.errors import UserError

ALIASES = ("best", "last")
# Prefixes that strategies put in front of the LightningModule's own parameter names: FSDP's
# sharded state dict is saved as {"model": ...}; DeepSpeed wraps the module as `_forward_module`.
WRAPPER_PREFIXES = ("_forward_module.", "model.", "module.", "state_dict.")


# -- which run -------------------------------------------------------------------------------------
def run_directories(root: str | Path) -> list[Path]:
    """The runs under `root` that saved at least one checkpoint (`<run>/checkpoints/*.ckpt`)."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted({path.parent.parent for path in root.glob("**/checkpoints/*.ckpt")})


def resolve_checkpoint(alias: str, root: str | Path, run: str | Path | None = None) -> str:
    """A concrete checkpoint path for `best` or `last` in `run`, or in the only run under `root`."""
    if run is None:
        runs = run_directories(root)
        if not runs:
            raise UserError(
                f"--ckpt_path {alias}: no run under trainer.default_root_dir={root} has saved a checkpoint; "
                "pass the default_root_dir the run was trained with, or a checkpoint file"
            )
        if len(runs) > 1:
            raise UserError(
                f"--ckpt_path {alias}: trainer.default_root_dir={root} holds {len(runs)} runs "
                f"({', '.join(str(r) for r in runs)}) and {alias!r} does not say which; pass "
                "--ckpt_path <run>/checkpoints/<file>.ckpt, or give each run its own --trainer.default_root_dir"
            )
        run = runs[0]
    directory = Path(run) / "checkpoints"
    checkpoints = sorted(directory.glob("*.ckpt"), key=lambda p: p.stat().st_mtime)
    if not checkpoints:
        raise UserError(f"--ckpt_path {alias}: run {run} has no checkpoint in {directory}")
    last = directory / "last.ckpt" if (directory / "last.ckpt").exists() else checkpoints[-1]
    if alias == "last":
        return str(last)
    return str(recorded_best(last) or last)


def recorded_best(checkpoint: str | Path) -> Path | None:
    """The best checkpoint that `checkpoint`'s ModelCheckpoint state recorded, looked up in the same
    `checkpoints/` folder first (the run may have moved since), or None when nothing was monitored."""
    checkpoint = Path(checkpoint)
    state_file = checkpoint / "meta.pt" if checkpoint.is_dir() else checkpoint  # FSDP sharded: meta.pt
    if not state_file.is_file():
        return None
    state = load_file(state_file, "--ckpt_path")
    for key, callback_state in state.get("callbacks", {}).items():
        recorded = callback_state.get("best_model_path") if key.startswith("ModelCheckpoint") else None
        if recorded:
            for candidate in (checkpoint.parent / Path(recorded).name, Path(recorded)):
                if candidate.exists():
                    return candidate
    return None


# -- what is inside --------------------------------------------------------------------------------
def check_complete(path: str | Path, key: str = "--ckpt_path") -> None:
    """A checkpoint file that torch cannot read (a run killed while saving leaves a truncated zip)
    fails the same way on every retry: stop before loading it, say which file, and how to go on.
    The file is never deleted here: it may be the only copy of a long run."""
    path = Path(path)
    if not path.is_file():
        return
    with open(path, "rb") as handle:
        magic = handle.read(2)
    if (magic == b"PK" and zipfile.is_zipfile(path)) or magic not in (b"", b"PK"):  # a complete zip, or an old format
        return
    raise UserError(broken_checkpoint(path, key))


def broken_checkpoint(path: str | Path, key: str) -> str:
    size = Path(path).stat().st_size
    return (f"{key}: {path} is truncated or damaged ({size} bytes, not a complete checkpoint; was its run killed "
            f"while saving?); move it aside (mv {path} {path}.broken) to start that run again from its other "
            "checkpoints or from the beginning, or pass another checkpoint")  # fmt: skip


def load_file(path: str | Path, key: str = "checkpoint") -> dict[str, Any]:
    """A checkpoint file's contents, loaded with `weights_only=True`."""
    check_complete(path, key)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise UserError(f"{key}: {path} does not exist") from None
    except (RuntimeError, EOFError) as error:  # torch's "PytorchStreamReader failed reading zip archive"
        if "zip archive" not in str(error) and not isinstance(error, EOFError):
            raise
        raise UserError(broken_checkpoint(path, key)) from None
    except pickle.UnpicklingError as error:
        raise UserError(
            f"{key}: {path} holds objects other than tensors and plain values, and is not loaded "
            f"(weights_only=True); re-save its state_dict ({str(error).splitlines()[0]})"
        ) from None


def encoder_state(path: str | Path, key: str = "checkpoint", adapters_only: bool = False) -> dict[str, torch.Tensor]:
    """The `encoder.*` weights of a checkpoint, keyed as the encoder itself names them.

    `path` is a Lightning `.ckpt` file (or a plain state-dict file), a DeepSpeed ZeRO checkpoint
    directory, or a torch.distributed.checkpoint directory (FSDP's `sharded` state dict); `key`
    names the setting the path came from, for errors. `adapters_only` reads only the LoRA weights
    (a LoRA run's export): a sharded checkpoint of a 176B base is then never consolidated whole.
    """
    path = Path(path)
    if not path.exists():
        raise UserError(f"{key}: {path} does not exist")
    if path.is_file():
        saved = load_file(path, key)
        state = saved.get("state_dict", saved)
    elif (path / ".metadata").is_file():
        state = _distributed_checkpoint_state(path, adapters_only)
    elif (path / "latest").is_file() or any(path.glob("**/*model_states.pt")):
        state = _deepspeed_state(path, key, adapters_only)
    else:
        raise UserError(
            f"{key}: {path} is a directory but not a sharded checkpoint (a torch.distributed.checkpoint "
            "folder has `.metadata`, a DeepSpeed one `latest`); pass a checkpoint file or folder"
        )
    weights = {}
    for name, value in state.items():
        name = _without_wrappers(name)
        if name.startswith("encoder.") and isinstance(value, torch.Tensor) and (not adapters_only or _lora(name)):
            weights[name[len("encoder.") :]] = value
    if not weights:
        raise UserError(f"{key}: {path} holds no `encoder.*` weights (not a lightning_xfer checkpoint?)")
    return weights


def checkpoint_hyperparameters(path: str | Path) -> dict[str, Any]:
    """The LightningModule hyperparameters a checkpoint recorded: in the `.ckpt` file, in a
    torch.distributed.checkpoint folder's `meta.pt`, or in a DeepSpeed folder's model-states file."""
    path = Path(path)
    if path.is_file():
        candidates = [path]
    elif (path / "meta.pt").is_file():
        candidates = [path / "meta.pt"]
    else:
        candidates = sorted(path.glob("**/*model_states.pt"))
    for candidate in candidates:
        state = load_file(candidate, "checkpoint")
        if "hyper_parameters" in state:
            return dict(state["hyper_parameters"])
    raise UserError(f"{path} records no hyperparameters (not a Lightning checkpoint file or folder?)")


def _without_wrappers(name: str) -> str:
    while not name.startswith("encoder.") and name.startswith(WRAPPER_PREFIXES):
        name = name.split(".", 1)[1]
    return name


def _lora(name: str) -> bool:
    return ".lora_" in name


def _distributed_checkpoint_state(directory: Path, adapters_only: bool = False) -> dict[str, torch.Tensor]:
    """The encoder tensors of a torch.distributed.checkpoint folder, read in this one process.

    Only the encoder's entries are allocated and read (not the heads' or the optimizer's), from
    the shapes and dtypes the folder's metadata records.
    """
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.metadata import TensorStorageMetadata

    reader = dcp.FileSystemReader(directory)
    entries = reader.read_metadata().state_dict_metadata
    state = {
        name: torch.empty(entry.size, dtype=entry.properties.dtype)
        for name, entry in entries.items()
        if isinstance(entry, TensorStorageMetadata)
        and _without_wrappers(name).startswith("encoder.")
        and (not adapters_only or _lora(name))
    }
    if state:
        with warnings.catch_warnings():  # "assuming the intent is to load in a single process": it is
            warnings.filterwarnings("ignore", message="torch.distributed is disabled")
            dcp.load(state, storage_reader=reader, no_dist=True)
    return state


def _deepspeed_state(directory: Path, key: str, adapters_only: bool = False) -> dict[str, torch.Tensor]:
    """A DeepSpeed ZeRO checkpoint folder consolidated into fp32 by DeepSpeed's own zero_to_fp32
    (without the frozen weights when only the trained adapters are wanted)."""
    try:
        from deepspeed.utils.zero_to_fp32 import get_fp32_state_dict_from_zero_checkpoint
    except ImportError:
        raise UserError(
            f"{key}: {directory} is a DeepSpeed checkpoint; reading it needs DeepSpeed "
            "(pip install -e '.[deepspeed]'), or consolidate it first with its zero_to_fp32.py"
        ) from None
    return get_fp32_state_dict_from_zero_checkpoint(str(directory), exclude_frozen_parameters=adapters_only)
