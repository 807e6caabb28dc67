"""Test helpers: run the CLI in-process and read what runs wrote."""

from __future__ import annotations

import json
import struct
import sys
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


def wandb_history_keys(run_file: Path) -> set[str]:
    """Keys of the history rows in an offline W&B run file.

    The file is ':W&B', a 2-byte magic and a version byte, then LevelDB log records (7-byte
    header: crc, length, type) in 32 KiB blocks, each record a `wandb_internal_pb2.Record`.
    """
    from wandb.proto import wandb_internal_pb2

    data = run_file.read_bytes()
    assert data[:4] == b":W&B"
    keys, position, pending = set(), 7, b""
    while position + 7 <= len(data):
        if 32768 - position % 32768 < 7:  # block trailer too small for a header: padding
            position += 32768 - position % 32768
            continue
        _, length, kind = struct.unpack_from("<IHB", data, position)
        pending += data[position + 7 : position + 7 + length]
        position += 7 + length
        if kind in (1, 4):  # a full record, or the last fragment of one
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            pending = b""
            if record.WhichOneof("record_type") == "history":
                keys.update(item.key or "/".join(item.nested_key) for item in record.history.item)
        elif kind == 0:
            break
    return keys
