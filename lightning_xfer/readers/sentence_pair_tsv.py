"""Classification TSVs: XNLI, PAWS-X, GLUE (SST-2, QQP, MNLI) and XTREME's processed files.

Files come with a header (`id  sentence1  sentence2  label`, GLUE's `sentence  label`) or without
one (XTREME's and XGLUE's `premise  hypothesis  label`). With a header, columns are found by name;
without one, by position.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from lightning_xfer.errors import DataFormatError

csv.field_size_limit(sys.maxsize)

# Header names that mean "first text", "second text", "label" across the benchmarks' files.
_TEXT_A = ("sentence1", "premise", "sentence", "question1", "text")
_TEXT_B = ("sentence2", "hypothesis", "question2")
_LABEL = ("label", "gold_label", "is_duplicate")


def read_sentence_pair_tsv(path: str | Path, paired: bool = True, header: bool | None = None) -> list[dict]:
    """Examples as {id, text, text_pair, label}; `header=None` detects a header row.

    Every row has as many columns as the header (without one: 3, or 2 when not `paired`), and the
    text and label columns are not empty: a stray tab shifts every column after it.
    """
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows:
        raise DataFormatError(path, None, "the file is empty", _headerless(paired))
    first = [cell.strip().lower() for cell in rows[0]]
    if header is None:
        header = any(name in first for name in _LABEL) and any(name in first for name in _TEXT_A)
    if header:
        expected = f"{len(first)} tab-separated columns, as in the header row"
        columns = _columns_by_name(path, first, paired, expected)
        names, body, first_line = first, rows[1:], 2
    else:
        expected = _headerless(paired)
        columns = (0, 1, 2) if paired else (0, None, 1)
        names, body, first_line = ["text", "text_pair", "label"] if paired else ["text", "label"], rows, 1
    id_column = first.index("id") if header and "id" in first else None
    a, b, label = columns
    examples = []
    for offset, row in enumerate(body):
        number = first_line + offset
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != len(names):
            raise DataFormatError(path, number, f"{len(row)} tab-separated columns", expected)
        empty = [names[c] for c in columns if c is not None and not row[c].strip()]
        if empty:
            raise DataFormatError(path, number, f"the {empty[0]} column is empty", expected)
        examples.append(
            {
                "id": row[id_column] if id_column is not None else f"{Path(path).stem}-{number}",
                "text": row[a],
                "text_pair": row[b] if b is not None else None,
                "label": row[label].strip(),
                "line": number,
            }
        )
    return examples


def _headerless(paired: bool) -> str:
    return "'text<TAB>text_pair<TAB>label' rows" if paired else "'text<TAB>label' rows"


def _columns_by_name(path, names: list[str], paired: bool, expected: str) -> tuple[int, int | None, int]:
    def find(candidates: tuple[str, ...]) -> int:
        for name in candidates:
            if name in names:
                return names.index(name)
        raise DataFormatError(path, 1, f"header {names} has none of {list(candidates)}", expected)

    return find(_TEXT_A), find(_TEXT_B) if paired else None, find(_LABEL)
