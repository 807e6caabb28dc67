"""Plain text, one example per non-empty line (MLM corpora)."""

from __future__ import annotations

from pathlib import Path


def read_text_lines(path: str | Path, language: str = "") -> list[dict]:
    """{id, text} per non-empty line; ids are `<file stem>-<line number>`."""
    stem = Path(path).stem
    with open(path, encoding="utf-8") as handle:
        return [
            {"id": f"{stem}-{number}", "text": line.strip()}
            for number, line in enumerate(handle, start=1)
            if line.strip()
        ]
