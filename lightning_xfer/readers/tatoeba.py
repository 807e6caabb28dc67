"""Tatoeba (XTREME's v1 copy from LASER): `tatoeba.{xxx}-eng.{xxx}` and `tatoeba.{xxx}-eng.eng`,
line-aligned, 1,000 pairs per language. The reader takes the non-English file and finds its
English side beside it.

The English sentences are the queries and the other language's sentences the index, as XTREME
searches (`evaluate_retrieval.py` calls `similarity_search(x, y)` with x the language's
embeddings and y English's; `utils_retrieve.similarity_search` adds x to the index and searches
it with y). The prediction for English line i is the line of its nearest sentence in the other
language; the gold is i.
"""

from __future__ import annotations

from pathlib import Path

from lightning_xfer.errors import DataFormatError


def read_tatoeba(path: Path, language: str) -> list[dict]:
    """Source sentences (English, the queries) and target sentences (the language, the index)."""
    path = Path(path)
    english = path.with_suffix(".eng")
    if not english.exists():
        raise DataFormatError(english, None, "the English side is missing", f"{english.name} beside {path.name}")
    sentences = path.read_text(encoding="utf-8").rstrip("\n").split("\n")
    queries = english.read_text(encoding="utf-8").rstrip("\n").split("\n")
    if len(sentences) != len(queries):
        raise DataFormatError(
            path, min(len(sentences), len(queries)) + 1,
            f"{len(sentences)} lines but {english.name} has {len(queries)}", "line-aligned files of equal length",
        )  # fmt: skip
    return [{"id": f"eng-{i}", "text": q, "side": "source", "index": i} for i, q in enumerate(queries)] + [
        {"id": f"{language}-{i}", "text": s, "side": "target", "index": i} for i, s in enumerate(sentences)
    ]
