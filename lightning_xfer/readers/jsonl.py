"""JSON-lines files (ANLI, CommonsenseQA, XCOPA, HellaSwag, Mewsli-X): one object per line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from lightning_xfer.errors import DataFormatError


def read_jsonl(path: str | Path, required: tuple[str, ...] = ()) -> Iterator[tuple[int, dict]]:
    """(line number, object) for every non-blank line; each must be an object with `required` keys."""
    expected = f"one JSON object per line with keys {list(required)}"
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise DataFormatError(path, number, f"invalid JSON ({error.msg})", expected) from None
            if not isinstance(record, dict):
                raise DataFormatError(path, number, f"a JSON {type(record).__name__}", expected)
            missing = [key for key in required if key not in record]
            if missing:
                raise DataFormatError(path, number, f"missing keys {missing}", expected)
            yield number, record
