"""The project's own subcommands, next to LightningCLI's fit/validate/test/predict.

Each is a plain typed function whose docstring documents its arguments; its parser is built from the
signature by jsonargparse, the library LightningCLI parses with (litgpt's way), so an option is written
once, as a parameter, and Python calls the function with the same names the command line uses. `study`
keeps its hand-written parser: its four actions share three options that four signatures would repeat.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import re
from collections.abc import Callable
from json import dumps, loads
from typing import Any, NoReturn

from jsonargparse import ArgumentParser, DefaultHelpFormatter

from lightning_xfer.errors import UserError, command_line_error

COMMANDS: dict[str, str | dict[str, str]] = {
    "tasks": "lightning_xfer.commands:tasks_command",
    "encoders": {"prepare": "lightning_xfer.commands:prepare_command"},
    "score": "lightning_xfer.scoring:score_command",
    "report": "lightning_xfer.report:report_command",
    "plan": "lightning_xfer.scale.command:plan_command",
    "consolidate": "lightning_xfer.scale.command:consolidate_command",
    "study": "lightning_xfer.study.command:study_command",
}
"""Subcommand -> its function ("module:function", imported when it runs, so `fit` never loads them), or
its actions' functions. `study`'s takes the argument list and parses it itself (HAND_PARSED)."""
HAND_PARSED = {"study"}


def run_command(name: str, argv: list[str]) -> None:
    """Run `python -m lightning_xfer <name> <argv>`."""
    target = COMMANDS[name]
    if name in HAND_PARSED:
        _load(target)(argv)
        return
    config = command_parser(name).parse_args(argv)
    if isinstance(target, dict):  # `encoders prepare ...`
        target, config = target[config.subcommand], config[config.subcommand]
    _load(target)(**config.as_dict())


def command_parser(name: str) -> CommandParser:
    """The parser of a subcommand, from its function's signature (or one per action)."""
    target, prog = COMMANDS[name], f"lightning_xfer {name}"
    if isinstance(target, str):
        return CommandParser(prog, _load(target))
    parser = CommandParser(prog)
    actions = parser.add_subcommands(required=True)
    for action, path in target.items():
        function = _load(path)
        actions.add_subcommand(action, CommandParser(f"{prog} {action}", function), help=_summary(function))
    return parser


class CommandParser(ArgumentParser):
    """jsonargparse's parser of a typed function, spelled as argparse users expect: `--min-seeds` for
    `min_seeds`, a bare `--json` for a `bool = False`, `--x/--no-x` for a `bool | None`, a
    `list[str] | None` given once per item (`--set a=1 --set b=2`, where jsonargparse would keep the
    last), no abbreviations (`--boot` is not `--bootstrap`), and one-line errors."""

    def __init__(self, prog: str, function: Callable | None = None) -> None:
        summary = _summary(function) if function else None
        super().__init__(prog=prog, description=summary, allow_abbrev=False, formatter_class=_HelpFormatter)
        self.command = prog.removeprefix("lightning_xfer ")  # jsonargparse rewrites a subcommand's prog
        if function is not None:
            self.add_function_arguments(function, as_group=False, as_positional=True)

    def add_argument(self, *args: str, **kwargs: Any) -> argparse.Action:
        if args and args[0].startswith("--") and "dest" not in kwargs:
            kwargs["dest"], args = args[0][2:], (args[0].replace("_", "-"),)  # drops jsonargparse's `--set+`
            typehint = getattr(kwargs.get("action"), "_typehint", kwargs.get("type"))
            if typehint is bool and kwargs.get("default") is False:
                kwargs.pop("type")
                kwargs["action"] = "store_true"
            elif typehint in (bool, bool | None):
                kwargs.pop("type", None)
                kwargs["action"] = argparse.BooleanOptionalAction
            elif typehint == list[str] | None:
                kwargs["action"] = "append"
        return super().add_argument(*args, **kwargs)

    def error(self, message: str, ex: Exception | None = None) -> NoReturn:
        if not self.exit_on_error or os.environ.get("JSONARGPARSE_DEBUG"):  # a nested parse, or debugging
            super().error(message, ex)
        # jsonargparse names a parameter by its key (`min_seeds`, `prepare.name`); the user typed `--min-seeds`.
        message = re.sub(r'Parser key "([\w.]+)"', lambda key: self._spelled(key[1]), message)
        head, required, keys = message.partition("the following arguments are required: ")
        if required:
            message = head + required + ", ".join(self._spelled(key) for key in keys.split(", "))
        for wordy, plain in PLAIN_TYPE_ERRORS:
            message = re.sub(wordy, plain, " ".join(message.split()))
        command_line_error(message, self.command)

    def _spelled(self, key: str) -> str:
        key = key.rsplit(".", 1)[-1]
        option = next((a.option_strings for a in self._actions if a.dest == key and a.option_strings), [key])
        return option[0]


PLAIN_TYPE_ERRORS = [
    (r"Expected an? <class '(\w+)'>\. Got value: ?(.*)", r"expected \1, got '\2'"),
    (r"Does not validate against any of the Union subtypes Subtypes: \[<class '(\w+)'>, <class 'NoneType'>\]"
     r".* Given value: ?(.*)", r"expected \1 or null, got '\2'"),
]  # fmt: skip
"""jsonargparse's type errors (`--gpus 2.5`, `--batch x` for an `int | None`) as argparse would say them."""


class _HelpFormatter(DefaultHelpFormatter):
    def _get_type_str(self, action: argparse.Action) -> str | None:
        text = super()._get_type_str(action)
        return text and text.replace("<class 'Path'>", "Path")  # jsonargparse knows its own Path, not pathlib's


def _load(path: str) -> Callable:
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def _summary(function: Callable) -> str:
    return (inspect.getdoc(function) or "").split("\n\n")[0]


def tasks_command(json: bool = False) -> None:
    """List the task catalogue.

    Args:
        json: one JSON object per task
    """
    from lightning_xfer.tasks import catalogue

    rows = []
    for task in catalogue().values():
        rows.append(
            {
                "name": task.name,
                "role": task.role,
                "benchmarks": list(task.benchmarks),
                "family": type(task.family).__name__,
                "languages": list(task.languages),
                "metric": task.primary_metric,
                "labels": list(task.labels),
                "train_from": task.train_from.name if task.train_from else None,
                "local_files": dict(task.local.files) if task.local else None,
                "hub": f"{task.hub.path}:{task.hub.config}" if task.hub else None,
                "domain": task.domain,
                "description": task.description,
            }
        )
    if json:
        print(dumps(rows, indent=2, ensure_ascii=False))
        return
    print(f"{'task':<18}{'role':<14}{'family':<16}{'metric':<10}{'langs':>6}  benchmarks")
    for row in rows:
        print(
            f"{row['name']:<18}{row['role']:<14}{row['family']:<16}{row['metric']:<10}"
            f"{len(row['languages']):>6}  {','.join(row['benchmarks']) or '-'}"
        )


def prepare_command(name: str, seed: int = 0) -> None:
    """Build an offline encoder into the cache.

    Args:
        name: multilingual-e5-small, tiny or small
        seed: seed of a tiny/small preset
    """
    from lightning_xfer.encoder import multilingual_e5_small, presets

    if name == multilingual_e5_small.NAME:
        directory = multilingual_e5_small.prepare()
        record = loads((directory / "conversion.json").read_text())
        print(f"{name} prepared in {directory}")
        print(f"  parameters: {record['parameters']:,}; weights sha256 {record['weights_sha256']}")
        print(f"  retrieval sanity check (top-1 of 10 parallel sentences): {record['sanity_check']}")
        print(f"  note: {record['note']}")
    elif name in presets.PRESETS:
        print(f"{name} ready in {presets.preset_directory(name, seed)}")
    else:
        raise UserError(f"unknown offline encoder {name!r}; known: multilingual-e5-small, tiny, small")
