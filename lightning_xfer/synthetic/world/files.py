"""Writing the world's files whole (a reader never sees half a file, and a killed run leaves none),
and the text of the formats they are in."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path


def write_text(path: Path, text: str) -> None:
    """`text` into `path`, by writing a temporary file of this process beside it and renaming it (runs
    side by side may write the same task's files at once; each rename puts a whole file in place)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def as_lines(lines: Iterable[str]) -> str:
    return "".join(f"{line}\n" for line in lines)


def as_jsonl(records: Iterable[dict]) -> str:
    return as_lines(json.dumps(record, ensure_ascii=False) for record in records)


def as_json(document: object) -> str:
    return json.dumps(document, ensure_ascii=False, indent=1)
