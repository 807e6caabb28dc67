"""Test helpers: run the CLI in-process and read what runs wrote."""

from __future__ import annotations

import json
import struct
import sys
import time
from pathlib import Path

from conftest import PROJECT

from lightning_xfer.cli import run_lightning_cli


def cli(*args: str):
    """Run `python -m lightning_xfer ...` in this process; returns the LightningCLI object."""
    saved, sys.argv = sys.argv, ["lightning_xfer"]  # LightningCLI warns when sys.argv holds pytest's
    try:
        return run_lightning_cli(list(args))
    finally:
        sys.argv = saved


def quickstart(command: str, root: Path, *extra: str):
    return cli(
        command,
        "--config",
        str(PROJECT / "configs" / "quickstart.yaml"),
        f"--trainer.default_root_dir={root}",
        "--trainer.enable_progress_bar=false",
        *extra,
    )


def results(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def wandb_records(run_file: Path) -> list:
    """Every record of an offline W&B run file, in order.

    The framing is the one tests/helpers.py `wandb_history_keys` reads: ':W&B', magic and version
    (7 bytes), then LevelDB log records (7-byte header: crc, length, type) in 32 KiB blocks.
    """
    from wandb.proto import wandb_internal_pb2

    data = run_file.read_bytes()
    records, position, pending = [], 7, b""
    while position + 7 <= len(data):
        if 32768 - position % 32768 < 7:
            position += 32768 - position % 32768
            continue
        _, length, kind = struct.unpack_from("<IHB", data, position)
        pending += data[position + 7 : position + 7 + length]
        position += 7 + length
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            records.append(record)
            pending = b""
        elif kind == 0:
            break
    return records


def finished_run_file(run_directory: Path, timeout: float = 120) -> Path:
    """The run's `.wandb` file once W&B has written its last record (`exit`).

    wandb 0.31 writes the file from its separate wandb-core process, which can still be writing
    after `wandb.finish()` returns or the training process exits: a file read at once has been
    seen without any history records.
    """
    deadline = time.monotonic() + timeout
    while not list(run_directory.glob("run-*.wandb")):  # the writer process may not have opened it yet
        assert time.monotonic() < deadline, f"{run_directory}: no .wandb file after {timeout} s"
        time.sleep(0.5)
    run_file = next(run_directory.glob("run-*.wandb"))
    while not any(r.WhichOneof("record_type") == "exit" for r in wandb_records(run_file)):
        assert time.monotonic() < deadline, f"{run_file}: no exit record after {timeout} s"
        time.sleep(0.5)
    return run_file


def wandb_history_keys(run_file: Path) -> set[str]:
    """Keys of the history rows in an offline W&B run file."""
    keys = set()
    for record in wandb_records(run_file):
        if record.WhichOneof("record_type") == "history":
            keys.update(item.key or "/".join(item.nested_key) for item in record.history.item)
    return keys


def run_in_project(runs: list, others: list = ()) -> dict[str, str]:
    """`run_local` in this process from the project root (where study files name their configs)."""
    import os

    from lightning_xfer.study.local import run_local

    cwd = os.getcwd()
    os.chdir(PROJECT)
    try:
        return run_local(runs, PROJECT, in_process=True, others=list(others))
    finally:
        os.chdir(cwd)


def wait_for_step(run, step: int, timeout: float = 300) -> int:
    """Wait until the run's `last.ckpt` (saved every `checkpoint_every` steps) has passed `step`."""
    import torch

    deadline = time.time() + timeout
    while time.time() < deadline:
        if run.last_checkpoint.exists():
            try:
                reached = torch.load(run.last_checkpoint, map_location="cpu", weights_only=True)["global_step"]
            except Exception:  # caught mid-write: read it at the next tick
                reached = 0
            if reached >= step:
                return reached
        time.sleep(0.1)
    raise AssertionError(f"{run.id} never reached step {step}")
