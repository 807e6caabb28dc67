"""The original formats of the English intermediate tasks that are not SQuAD JSON or GLUE TSV."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from lightning_xfer.errors import DataFormatError, UserError
from lightning_xfer.readers.jsonl import read_jsonl


def read_anli(path: Path, language: str = "en") -> list[dict]:
    """ANLI v1.0 `R{1,2,3}/{train,dev,test}.jsonl`: uid, context, hypothesis, label (e/n/c)."""
    return [
        {"id": r["uid"], "text": r["context"], "text_pair": r["hypothesis"], "label": r["label"], "line": n}
        for n, r in read_jsonl(path, ("uid", "context", "hypothesis", "label"))
    ]


def read_commonsenseqa(path: Path, language: str = "en") -> list[dict]:
    """CommonsenseQA `*_rand_split.jsonl`: question.stem, five question.choices, answerKey (A-E)."""
    examples = []
    for number, record in read_jsonl(path, ("id", "question")):
        choices = sorted(record["question"]["choices"], key=lambda c: c["label"])
        labels = [c["label"] for c in choices]
        key = record.get("answerKey")
        if key is not None and key not in labels:
            raise DataFormatError(path, number, f"answerKey {key!r} not among {labels}", "answerKey naming a choice")
        examples.append(
            {
                "id": record["id"],
                "context": "",
                "question": record["question"]["stem"],
                "choices": [c["text"] for c in choices],
                "label": labels.index(key) if key is not None else -1,
            }
        )
    return examples


def read_cosmosqa(path: Path, language: str = "en") -> list[dict]:
    """Cosmos QA CSV: id, context, question, answer0..answer3, label (CRLF line ends)."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    expected = "CSV with columns id, context, question, answer0..answer3, label"
    examples = []
    for number, row in enumerate(rows, start=2):
        try:
            answers = [row[f"answer{i}"] for i in range(4)]
            label = int(row["label"]) if row.get("label", "") != "" else -1
            examples.append({"id": row["id"], "context": row["context"], "question": row["question"],
                             "choices": answers, "label": label})  # fmt: skip
        except (KeyError, ValueError) as error:
            raise DataFormatError(path, number, f"bad row ({error})", expected) from None
    return examples


def read_hellaswag(path: Path, language: str = "en") -> list[dict]:
    """HellaSwag `hellaswag_{train,val}.jsonl`: ctx_a is the context, ctx_b + ending each choice."""
    return [
        {
            "id": str(r["ind"]),
            "context": r["ctx_a"],
            "question": "",
            "choices": [f"{r['ctx_b']} {ending}".strip() for ending in r["endings"]],
            "label": int(r["label"]) if r.get("label", "") != "" else -1,
        }
        for _, r in read_jsonl(path, ("ind", "ctx_a", "ctx_b", "endings"))
    ]


def read_ccg(path: Path, language: str = "en") -> list[dict]:
    """CCGbank supertags in jiant's `ccg_num.{train,dev,test}` layout: `sentence<TAB>tag ids`.

    The ids are turned into tag names with `tags_to_id.json` from the same folder.
    """
    names = {index: tag for tag, index in ccg_tag_ids(Path(path).parent).items()}
    examples = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            tokens, ids = fields[0].split(" "), fields[-1].split(" ") if len(fields) == 2 else []
            if len(fields) != 2 or len(tokens) != len(ids) or not all(i.isdigit() and int(i) in names for i in ids):
                raise DataFormatError(
                    path, number, "not a sentence and one known tag id per word", "'words<TAB>tag ids'"
                )
            examples.append(
                {"id": f"{Path(path).name}-{number}", "tokens": tokens, "tags": [names[int(i)] for i in ids]}
            )
    return examples


def ccg_tag_ids(directory: Path) -> dict[str, int]:
    """CCG supertag -> id, from `tags_to_id.json` (jiant's CCG preprocessing)."""
    path = Path(directory) / "tags_to_id.json"
    if not path.exists():
        raise UserError(
            f"CCG needs {path}: CCGbank (LDC2005T13) is licensed data that we cannot download for you; "
            "convert your copy with jiant's scripts/ccg and set data_dir to that folder"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def ccg_labels(directory: Path) -> tuple[str, ...]:
    """The CCG supertag set in id order."""
    ids = ccg_tag_ids(directory)
    return tuple(sorted(ids, key=ids.get))
