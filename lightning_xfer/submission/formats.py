"""Submission file formats. Line formats key examples by position ("0", "1", ...), JSON formats by id.

Gold-label files are read "as the benchmark's files give them": a label file may hold the label
alone or the whole original line (the label is then its last tab-separated column, and a header
row naming `label` is skipped); QA labels are the original SQuAD-format JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lightning_xfer.errors import DataFormatError
from lightning_xfer.readers.jsonl import read_jsonl
from lightning_xfer.readers.squad_json import read_squad_json


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").rstrip("\n").split("\n") if path.stat().st_size else []


class SubmissionFormat:
    """How one task's predictions and labels are stored."""

    extension = "tsv"

    def write(self, path: Path, predictions: dict[str, Any], order: list[str]) -> None:
        raise NotImplementedError

    def read_predictions(self, path: Path) -> dict[str, Any]:
        raise NotImplementedError

    def read_labels(self, path: Path) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class LabelLines(SubmissionFormat):
    """One label (or integer) per line: XNLI, PAWS-X, Tatoeba."""

    integer: bool = False

    def write(self, path, predictions, order):
        _write(path, "".join(f"{predictions[key]}\n" for key in order))

    def _parse(self, path: Path, value: str, number: int):
        if not self.integer:
            return value
        try:
            return int(value)
        except ValueError:
            raise DataFormatError(path, number, f"{value!r} is not an integer", "one integer per line") from None

    def read_predictions(self, path):
        return {str(i): self._parse(path, line.strip(), i + 1) for i, line in enumerate(_lines(path))}

    def read_labels(self, path):
        lines = _lines(path)
        if lines and lines[0].split("\t")[-1].strip().lower() == "label":
            lines = lines[1:]  # the original PAWS-X header row
        return {str(i): self._parse(path, line.split("\t")[-1].strip(), i + 1) for i, line in enumerate(lines)}


@dataclass(frozen=True)
class TagLines(SubmissionFormat):
    """One tag per line, a blank line after each sentence: PAN-X, UD-POS."""

    def write(self, path, predictions, order):
        _write(path, "".join("".join(f"{tag}\n" for tag in predictions[key]) + "\n" for key in order))

    def _sentences(self, path: Path) -> dict[str, list[str]]:
        sentences, current = [], []
        for line in path.read_text(encoding="utf-8").split("\n"):
            if line.strip():
                current.append(line.split("\t")[-1].strip())  # "tag" or "token<TAB>tag"
            elif current:
                sentences.append(current)
                current = []
        if current:
            sentences.append(current)
        return {str(i): tags for i, tags in enumerate(sentences)}

    def read_predictions(self, path):
        return self._sentences(path)

    def read_labels(self, path):
        return self._sentences(path)


@dataclass(frozen=True)
class AnswerJson(SubmissionFormat):
    """`{id: answer text}`: XQuAD, MLQA, TyDiQA-GoldP; labels are the SQuAD-format test file."""

    extension = "json"

    def write(self, path, predictions, order):
        _write(path, json.dumps({key: predictions[key] for key in order}, ensure_ascii=False, indent=1))

    def read_predictions(self, path):
        return _json_object(path, "{id: answer text}")

    def read_labels(self, path):
        return {e["id"]: e["answers"]["text"] for e in read_squad_json(path)}


@dataclass(frozen=True)
class RankedJson(SubmissionFormat):
    """`{id: [ranked ids]}`: Mewsli-X, LAReQA; labels `{id: gold id or [relevant ids]}`."""

    extension = "json"

    def write(self, path, predictions, order):
        _write(path, json.dumps({key: predictions[key] for key in order}, ensure_ascii=False))

    def read_predictions(self, path):
        return _json_object(path, "{id: [ranked ids]}")

    def read_labels(self, path):
        return _json_object(path, "{id: gold id or [relevant ids]}")


@dataclass(frozen=True)
class ChoiceJsonl(SubmissionFormat):
    """One JSON object with a `label` per line: XCOPA (labels: the original test file)."""

    extension = "jsonl"

    def write(self, path, predictions, order):
        _write(path, "".join(json.dumps({"idx": i, "label": predictions[key]}) + "\n" for i, key in enumerate(order)))

    def read_predictions(self, path):
        return {str(i): record["label"] for i, (_, record) in enumerate(read_jsonl(path, ("label",)))}

    def read_labels(self, path):
        return self.read_predictions(path)


@dataclass(frozen=True)
class PairLines(SubmissionFormat):
    """`source_id<TAB>target_id` per line: BUCC's mined pairs and its gold file. One key, "pairs"."""

    def write(self, path, predictions, order):
        _write(path, "".join(f"{s}\t{t}\n" for s, t in predictions["pairs"]))

    def _pairs_from_text(self, text: str, path: Path | str = "<text>") -> set[tuple[str, str]]:
        pairs = set()
        for number, line in enumerate(text.rstrip("\n").split("\n") if text.strip() else [], start=1):
            fields = line.split("\t")
            if len(fields) != 2:
                raise DataFormatError(path, number, f"{len(fields)} fields", "'source_id<TAB>target_id' lines")
            pairs.add((fields[0].strip(), fields[1].strip()))
        return pairs

    def _pairs(self, path: Path) -> dict[str, set]:
        return {"pairs": self._pairs_from_text(path.read_text(encoding="utf-8"), path)}

    def read_predictions(self, path):
        return self._pairs(path)

    def read_labels(self, path):
        return self._pairs(path)


def _json_object(path: Path, expected: str) -> dict:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DataFormatError(path, error.lineno, f"invalid JSON ({error.msg})", expected) from None
    if not isinstance(document, dict):
        raise DataFormatError(path, None, f"a JSON {type(document).__name__}", expected)
    return document
