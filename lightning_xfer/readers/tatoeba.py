"""Tatoeba (XTREME's v1 copy from LASER): `tatoeba.{xxx}-eng.{xxx}` and `tatoeba.{xxx}-eng.eng`,
line-aligned, 1,000 pairs per language. The reader takes the non-English file and finds its
English side beside it."""

from __future__ import annotations

from pathlib import Path

from lightning_xfer.errors import DataFormatError


def read_tatoeba(path: Path, language: str) -> list[dict]:
    """Source sentences (the language) and target sentences (English), with their line index."""
    path = Path(path)
    english = path.with_suffix(".eng")
    if not english.exists():
        raise DataFormatError(english, None, "the English side is missing", f"{english.name} beside {path.name}")
    sources = path.read_text(encoding="utf-8").rstrip("\n").split("\n")
    targets = english.read_text(encoding="utf-8").rstrip("\n").split("\n")
    if len(sources) != len(targets):
        raise DataFormatError(
            path, min(len(sources), len(targets)) + 1,
            f"{len(sources)} lines but {english.name} has {len(targets)}", "line-aligned files of equal length",
        )  # fmt: skip
    return [{"id": f"{language}-{i}", "text": s, "side": "source", "index": i} for i, s in enumerate(sources)] + [
        {"id": f"eng-{i}", "text": t, "side": "target", "index": i} for i, t in enumerate(targets)
    ]
