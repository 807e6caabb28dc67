"""COPA and XCOPA (`premise, choice1, choice2, question, label, idx` JSON lines) and Social IQa
(`context, question, answerA..C` JSON lines with labels 1-3 in a `-labels.lst` file beside them).

COPA's question is "cause" or "effect"; it is asked in English for every language, since the
model learns the question on English COPA and XCOPA keeps COPA's questions.
"""

from __future__ import annotations

from pathlib import Path

from lightning_xfer.errors import DataFormatError
from lightning_xfer.readers.jsonl import read_jsonl

COPA_QUESTIONS = {"cause": "What was the cause?", "effect": "What happened as a result?"}


def read_copa(path: Path, language: str = "en") -> list[dict]:
    examples = []
    for number, record in read_jsonl(path, ("premise", "choice1", "choice2", "question")):
        if record["question"] not in COPA_QUESTIONS:
            raise DataFormatError(path, number, f"question {record['question']!r}", "'cause' or 'effect'")
        examples.append({
            "id": f"{language}-{record.get('idx', number - 1)}",
            "context": record["premise"],
            "question": COPA_QUESTIONS[record["question"]],
            "choices": [record["choice1"], record["choice2"]],
            "label": int(record.get("label", -1)),
        })  # fmt: skip
    return examples


def read_socialiqa(path: Path, language: str = "en") -> list[dict]:
    path = Path(path)
    labels_file = path.with_name(f"{path.stem}-labels.lst")
    labels = labels_file.read_text().split() if labels_file.exists() else []
    records = list(read_jsonl(path, ("context", "question", "answerA", "answerB", "answerC")))
    if labels and len(labels) != len(records):
        raise DataFormatError(labels_file, None, f"{len(labels)} labels for {len(records)} questions", "one per line")
    return [
        {
            "id": f"siqa-{number}",
            "context": record["context"],
            "question": record["question"],
            "choices": [record["answerA"], record["answerB"], record["answerC"]],
            "label": int(labels[i]) - 1 if labels else -1,
        }
        for i, (number, record) in enumerate(records)
    ]
