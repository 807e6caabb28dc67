"""A command line's *effective* configuration: its `--config` files merged in order as jsonargparse
merges them, then its `--key=value` arguments applied. What a run trains with, whichever file or
argument says it: a run's hash is taken over this, so moving a setting between files, layering a
study instead of copying a task file, or editing a comment leaves a finished run finished. The
planner reads what a strategy's files and an encoder entry set (micro-batch, checkpointing, model
name) through it too.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml

from lightning_xfer.errors import UserError


def merge(into: dict, update: dict) -> dict:
    """Mappings merge key by key; anything else (lists too) replaces: jsonargparse's rule for configs."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge(into[key], value)
        else:
            into[key] = value
    return into


def assign(config: dict, dotted: str, value: object, append: bool) -> None:
    """`--a.b.c=value` (or `+=`): a key under a list applies to its last element, as
    `--trainer.callbacks.dirpath=` does to the callback added just before it."""
    *path, last = dotted.split(".")
    node: object = config
    for key in path:
        if isinstance(node, list):
            node = node[-1].setdefault("init_args", {}) if node and isinstance(node[-1], dict) else {}
        if not isinstance(node, dict):
            node = {}
        elif not isinstance(node.get(key), (dict, list)):  # absent, or `model:` with nothing under it
            node[key] = {}
        node = node[key]
    if isinstance(node, list):
        node = node[-1].setdefault("init_args", {}) if node and isinstance(node[-1], dict) else {}
    if append:  # onto a list; a file's lone callback mapping (or null) becomes one
        existing = node.get(last)
        node[last] = existing if isinstance(existing, list) else [] if existing is None else [existing]
        node[last].append({"class_path": value} if isinstance(value, str) else value)
    else:
        node[last] = value


@functools.cache
def _parsed(text: str) -> object:
    return yaml.safe_load(text)


def _yaml(text: str) -> Any:
    """YAML, parsed once per text (a study's thousands of runs share a few files and values); a value
    that is not YAML on its own stays the text LightningCLI would be given."""
    try:
        return copy.deepcopy(_parsed(text))
    except yaml.YAMLError:
        return text


def _config_file(path: Path) -> dict:
    """A config file's settings; a file that is not a YAML mapping is the user's error, named."""
    try:
        document = copy.deepcopy(_parsed(path.read_text()))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise UserError(f"{path}: cannot read the config file ({str(error).splitlines()[0]})") from None
    if document is not None and not isinstance(document, dict):
        raise UserError(f"{path}: expected a mapping of settings (`model:`, `data:`, `trainer:`), "
                        f"got a {type(document).__name__}")  # fmt: skip
    return document or {}


def effective_config(command: tuple[str, ...] | list[str], root: Path | None = None) -> dict:
    """`{"subcommand": ..., "config": ...}` of one LightningCLI argument list (`fit --config a.yaml
    --trainer.max_steps=10 ...`); relative config paths are read from `root` (default: the current
    directory, where a study's commands run)."""
    config: dict = {}
    arguments = iter(command[1:])
    for argument in arguments:
        if argument == "--config":
            path = Path(next(arguments))
            merge(config, _config_file(path if path.is_absolute() or root is None else root / path))
            continue
        name, _, value = argument.removeprefix("--").partition("=")
        append = name.endswith("+")
        assign(config, name.removesuffix("+"), _yaml(value) if value else value, append)
    return {"subcommand": command[0], "config": config}
