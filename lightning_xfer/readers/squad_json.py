"""SQuAD-format JSON: SQuAD v1.1/v2.0, XQuAD, MLQA, TyDiQA-GoldP, XQuAD-R.

Every gold answer must be exactly where its `answer_start` says: `context[start:start+len(text)]
== text`. The official files satisfy this without exception (SQuAD v1.1 dev: 34,726 answers; the
12 XQuAD files, TyDiQA-GoldP dev in 9 languages, MLQA de-de dev: all of theirs), so a mismatch
means an edited or mis-encoded file, and training on it would teach the wrong span.
"""

from __future__ import annotations

import json
from pathlib import Path

from lightning_xfer.errors import DataFormatError
from lightning_xfer.readers.checks import undecodable

_EXPECTED = 'SQuAD JSON: {"data": [{"title", "paragraphs": [{"context", "qas": [{"id", "question", "answers"}]}]}]}'
_EXPECTED_ANSWER = '"answers": [{"text": <the answer>, "answer_start": <its character offset in the context>}]'
LABELLED_EXPECTED = (
    f"every question of a labelled split to have {_EXPECTED_ANSWER} ([] only for a SQuAD v2.0 question "
    'with "is_impossible": true)'
)


def unlabelled_question(path: str | Path, question_id: str) -> DataFormatError:
    """The error for a question without a gold answer in a split that must have one."""
    return DataFormatError(path, None, f"question {question_id} has no gold answer", LABELLED_EXPECTED)


def read_squad_json(path: str | Path, labelled: bool = True) -> list[dict]:
    """One example per question: id, title, context, question, answers{text, answer_start}.

    Unanswerable SQuAD v2.0 questions (`is_impossible: true`) keep empty answer lists. A question
    with no `answers` (or an empty list without `is_impossible`) is an error when `labelled`; with
    `labelled=False` its `answers` is None, for the caller to accept (predictions on a test set
    whose answers are not public) or reject with `unlabelled_question`.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except json.JSONDecodeError as error:
        raise DataFormatError(path, error.lineno, f"invalid JSON ({error.msg})", _EXPECTED) from None
    except UnicodeDecodeError as error:
        raise undecodable(path, error) from None
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise DataFormatError(path, None, "no top-level 'data' list", _EXPECTED)
    examples, seen = [], set()
    for article_index, article in enumerate(document["data"]):
        for paragraph_index, paragraph in enumerate(article.get("paragraphs", [])):
            where = f"data[{article_index}].paragraphs[{paragraph_index}]"
            context = paragraph.get("context")
            if not isinstance(context, str) or "qas" not in paragraph:
                raise DataFormatError(path, None, f"{where} lacks 'context' or 'qas'", _EXPECTED)
            for qa in paragraph["qas"]:
                if "id" not in qa or "question" not in qa:
                    raise DataFormatError(path, None, f"{where} has a question without 'id' or 'question'", _EXPECTED)
                question_id = str(qa["id"])
                if question_id in seen:
                    raise DataFormatError(
                        path, None, f"question id {question_id} appears twice (again in {where})", "unique question ids"
                    )
                seen.add(question_id)
                examples.append(
                    {
                        "id": question_id,
                        "title": article.get("title", ""),
                        "context": context,
                        "question": qa["question"],
                        "answers": _answers(path, question_id, context, qa, labelled),
                    }
                )
    return examples


def _answers(path: str | Path, question_id: str, context: str, qa: dict, labelled: bool) -> dict[str, list] | None:
    answers = qa.get("answers")
    if answers is None or (answers == [] and qa.get("is_impossible") is not True):
        if labelled:
            raise unlabelled_question(path, question_id)
        return None
    if not isinstance(answers, list):
        raise DataFormatError(path, None, f"question {question_id}: 'answers' is not a list", _EXPECTED_ANSWER)
    texts, starts = [], []
    for answer in answers:
        text, start = (answer.get("text"), answer.get("answer_start")) if isinstance(answer, dict) else (None, None)
        if not isinstance(text, str) or isinstance(start, bool) or not isinstance(start, int):
            raise DataFormatError(
                path, None, f"question {question_id}: an answer without a text and an integer answer_start",
                _EXPECTED_ANSWER,
            )  # fmt: skip
        texts.append(text)
        starts.append(start)
    check_answers(path, question_id, context, texts, starts)
    return {"text": texts, "answer_start": starts}


def check_answers(path: str | Path, question_id: str, context: str, texts: list[str], starts: list[int]) -> None:
    """Each answer text must be the context's characters from its `answer_start` on."""
    if len(texts) != len(starts) or not all(isinstance(s, int) and not isinstance(s, bool) for s in starts):
        raise DataFormatError(
            path, None, f"question {question_id}: answer texts {texts!r} and starts {starts!r} do not pair up",
            "one integer answer_start per answer text",
        )  # fmt: skip
    for text, start in zip(texts, starts, strict=True):
        if not 0 <= start <= len(context):
            raise DataFormatError(
                path, None, f"question {question_id}: answer_start {start} outside its context", _EXPECTED_ANSWER
            )
        found = context[start : start + len(text)]
        if found != text:
            raise DataFormatError(
                path, None, f"question {question_id}: answer {text!r} is not at answer_start {start} "
                f"(the context has {found!r} there)", "answer_start to be the offset of the answer text in the context",
            )  # fmt: skip
