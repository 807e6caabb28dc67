"""Dataclasses from the mappings of a YAML file, each value checked by jsonargparse (the CLI's own
parser) against its field's type hint, and every problem named by its key and collected rather than
raised, so that a file's problems are all reported in one round (`spec.load_study`).

jsonargparse checks and converts the leaves (`int`, `str | None`, `Literal["full", "lora"]`); the
mappings, lists and dataclasses around them are walked here, because jsonargparse stops at the first
problem of a value and names it by its own parser key, not the file's.
"""

from __future__ import annotations

import functools
from dataclasses import MISSING, fields, is_dataclass
from pathlib import Path
from types import UnionType
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from jsonargparse import ArgumentError, ArgumentParser

Fields = TypeVar("Fields")
INVALID = object()
"""What `typed` returns for a value it added a problem for (None can be a valid value)."""
_WORDS = {int: "a whole number", float: "a number", str: "a string", bool: "true or false", list: "a list",
          dict: "a mapping"}  # fmt: skip


def from_mapping(cls: type[Fields], mapping: dict, prefix: str, path: Path, problems: list[str]) -> Fields:
    """`cls` from a mapping of the file at `path`, each key checked against its field's type; a key set to
    null keeps the field's default, an unknown key is named with the known ones, and a field left
    without a value (a problem already reported) is `?`, so that the rest can still be checked."""
    hints = _hints(cls)
    values = {f.name: "?" for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING}
    for key, value in mapping.items():
        if key not in hints:
            problems.append(f"{path}: {prefix}{key}: unknown key; known: {', '.join(sorted(hints))}")
        elif value is None and type(None) not in get_args(hints[key]):
            continue  # null: the default
        elif (checked := typed(value, hints[key], prefix + key, path, problems)) is not INVALID:
            values[key] = checked
    return cls(**values)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """The type of each field a file may set (not those marked `in_file: False`)."""
    hints = get_type_hints(cls)
    return {f.name: hints[f.name] for f in fields(cls) if f.metadata.get("in_file", True)}


def typed(value: Any, hint: Any, key: str, path: Path, problems: list[str]) -> Any:
    """`value` as jsonargparse reads it for `hint` (the CLI's own checks and conversions: `"5"` is 5),
    or `INVALID` with the problem added. Mappings, lists and dataclasses are walked here, so that
    every bad entry is reported, named by its key; an entry of a list is named by its `name`."""
    origin, args = get_origin(hint), get_args(hint)
    union = origin in (Union, UnionType)
    dataclass = next((t for t in (hint, *(args if union else ())) if is_dataclass(t)), None)
    if dataclass is not None and isinstance(value, dict):
        named = value.get("name") if "name" in _hints(dataclass) else None
        prefix = f"{key}: {named}: " if named else f"{key}." if key else ""
        return from_mapping(dataclass, value, prefix, path, problems)
    if origin is list and isinstance(value, list):
        return [item for item in (typed(v, args[0], key, path, problems) for v in value) if item is not INVALID]
    if origin is dict and isinstance(value, dict):
        items = {}
        for name, item in value.items():
            if _checked(name, args[0]) is INVALID:
                problems.append(f"{path}: {key}.{name}: expected {_described(args[0])}")
            elif (checked := typed(item, args[1], f"{key}.{name}", path, problems)) is not INVALID:
                items[name] = checked
        return items
    checked = _checked(value, hint)
    if checked is INVALID:
        problems.append(f"{path}: `{key}:` expected {_described(hint)}, got {value!r}")
    return checked


def _checked(value: Any, hint: Any) -> Any:
    """`value` as jsonargparse reads it for a field of type `hint`, or `INVALID`; `Any` is taken as
    it is (jsonargparse would read a string in it as YAML), a dataclass only from a mapping."""
    if hint is Any or (value is None and type(None) in get_args(hint)):
        return value
    if value is None or is_dataclass(hint):
        return INVALID
    try:
        return _parser(hint).parse_object({"value": value}).value
    except ArgumentError:
        return INVALID


@functools.cache
def _parser(hint: Any) -> ArgumentParser:
    """A parser of one value of type `hint` (one per type: building one costs about a millisecond)."""
    parser = ArgumentParser(exit_on_error=False)
    parser.add_argument("--value", type=hint)
    return parser


def _described(hint: Any) -> str:
    """`hint` in the words of a problem: `a whole number`, `` `full` or `lora` ``."""
    origin, args = get_origin(hint), get_args(hint)
    if origin is Literal:
        names = [f"`{a}`" for a in args]
        return " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    if origin in (Union, UnionType):  # `str | None`: a string (null is never the problem)
        return " or ".join(_described(a) for a in args if a is not type(None))
    return "a mapping" if is_dataclass(hint) else _WORDS.get(origin or hint, str(hint))
