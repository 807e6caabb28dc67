"""Writing the world's files whole: a reader never sees half a file, and a killed run leaves none."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path


def write_text(path: Path, text: str) -> None:
    """`text` into `path`, by writing a temporary file beside it and renaming it."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def write_lines(path: Path, lines: Iterable[str]) -> None:
    write_text(path, "".join(f"{line}\n" for line in lines))


def write_json(path: Path, document: object) -> None:
    write_text(path, json.dumps(document, ensure_ascii=False, indent=1))


def write_jsonl(path: Path, records: Iterable[dict]) -> None:
    write_lines(path, (json.dumps(record, ensure_ascii=False) for record in records))
