"""SQuAD-format JSON: SQuAD v1.1/v2.0, XQuAD, MLQA, TyDiQA-GoldP, XQuAD-R."""

from __future__ import annotations

import json
from pathlib import Path

from lightning_xfer.errors import DataFormatError

_EXPECTED = 'SQuAD JSON: {"data": [{"title", "paragraphs": [{"context", "qas": [{"id", "question", "answers"}]}]}]}'


def read_squad_json(path: str | Path) -> list[dict]:
    """One example per question: id, title, context, question, answers{text, answer_start}.

    Unanswerable SQuAD v2.0 questions keep empty answer lists. An answer whose `answer_start`
    lies outside its context is a format error: training on it would teach a wrong span.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except json.JSONDecodeError as error:
        raise DataFormatError(path, error.lineno, f"invalid JSON ({error.msg})", _EXPECTED) from None
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise DataFormatError(path, None, "no top-level 'data' list", _EXPECTED)
    examples = []
    for article_index, article in enumerate(document["data"]):
        for paragraph_index, paragraph in enumerate(article.get("paragraphs", [])):
            where = f"data[{article_index}].paragraphs[{paragraph_index}]"
            context = paragraph.get("context")
            if not isinstance(context, str) or "qas" not in paragraph:
                raise DataFormatError(path, None, f"{where} lacks 'context' or 'qas'", _EXPECTED)
            for qa in paragraph["qas"]:
                if "id" not in qa or "question" not in qa:
                    raise DataFormatError(path, None, f"{where} has a question without 'id' or 'question'", _EXPECTED)
                texts, starts = [], []
                for answer in qa.get("answers", []):
                    start = int(answer["answer_start"])
                    if not 0 <= start <= len(context):
                        raise DataFormatError(
                            path,
                            None,
                            f"question {qa['id']}: answer_start {start} outside its context",
                            _EXPECTED,
                        )
                    texts.append(answer["text"])
                    starts.append(start)
                examples.append(
                    {
                        "id": str(qa["id"]),
                        "title": article.get("title", ""),
                        "context": context,
                        "question": qa["question"],
                        "answers": {"text": texts, "answer_start": starts},
                    }
                )
    return examples
