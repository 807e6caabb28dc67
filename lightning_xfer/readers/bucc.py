"""BUCC 2018 as XTREME distributes it: `{lang}-en.{split}.{lang}` and `{lang}-en.{split}.en` hold
`id<TAB>sentence` lines, `{lang}-en.{split}.gold` the aligned `source_id<TAB>target_id` pairs.

XTREME tests on BUCC's "training" data (named `test`) and tunes the mining threshold on its
"sample" (named `dev`), so reading a test file also reads the dev files beside it.

Every line of a gold file is a gold pair, as XTREME reads it (a set of lines): a source sentence
aligned to several targets keeps them all, in the source example's `gold` list.

XTREME's `download_data.sh` deletes the `*.test.gold` files (BUCC's test gold is scored by the
shared task's organisers). Without the test gold, the source examples' `gold` is None: `test`
stops with `missing_test_gold`'s message, `predict` writes the mined pairs for submission. The dev
gold is always needed: it sets the mining threshold.
"""

from __future__ import annotations

from pathlib import Path

from lightning_xfer.errors import DataFormatError

_EXPECTED = "'id<TAB>sentence' lines"


def _sentences(path: Path) -> list[tuple[str, str]]:
    rows = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.rstrip("\n").split("\t", 1)
            if len(fields) != 2 or not fields[0]:
                raise DataFormatError(path, number, "no id and sentence", _EXPECTED)
            rows.append((fields[0], fields[1]))
    return rows


def missing_test_gold(path: Path) -> DataFormatError:
    """The error for scoring BUCC's test split without its gold file."""
    return DataFormatError(
        path,
        None,
        "the file is missing, so the test split cannot be scored (XTREME's download_data.sh deletes "
        "the *.test.gold files)",
        "the gold file beside the sentences; or, without it, `python -m lightning_xfer predict` (it "
        "writes test-{lang}.tsv in XTREME's submission layout) and the official submission to be scored",
    )


def _gold(path: Path) -> dict[str, list[str]] | None:
    """Source id -> its aligned target ids; None when the file is missing."""
    if not path.exists():
        return None
    pairs: dict[str, list[str]] = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 2:
                raise DataFormatError(path, number, f"{len(fields)} fields", "'source_id<TAB>target_id' lines")
            if fields[1] not in pairs.setdefault(fields[0], []):
                pairs[fields[0]].append(fields[1])
    return pairs


def read_bucc(path: Path, language: str) -> list[dict]:
    """Source and target sentences of the file's split, plus the dev split's, with gold alignments."""
    path = Path(path)
    split = path.name.split(".")[-2]  # de-en.test.de -> test
    examples = []
    for part in ("dev", split) if split != "dev" else ("dev",):
        prefix = "" if part == split else "dev-"
        stem = path.parent / f"{language}-en.{part}"
        gold_file = Path(f"{stem}.gold")
        gold = _gold(gold_file)
        if gold is None and part == "dev":
            raise DataFormatError(gold_file, None, "the file is missing", "the dev gold: it sets the mining threshold")
        for side, suffix in (("source", language), ("target", "en")):
            file = Path(f"{stem}.{suffix}")
            if not file.exists():
                raise DataFormatError(file, None, "the file is missing", f"{file.name} beside {path.name}")
            for index, (identifier, text) in enumerate(_sentences(file)):
                examples.append({"id": identifier, "text": text, "side": prefix + side, "index": index,
                                 "gold": _source_gold(gold, identifier) if side == "source" else []})  # fmt: skip
    return examples


def _source_gold(gold: dict[str, list[str]] | None, identifier: str) -> list[str] | None:
    return None if gold is None else gold.get(identifier, [])
