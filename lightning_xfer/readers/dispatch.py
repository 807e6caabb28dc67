"""Readers that pick the format from the file itself, so one task accepts the layouts it ships in."""

from __future__ import annotations

from pathlib import Path

from lightning_xfer.errors import DataFormatError
from lightning_xfer.readers.conllu import read_conllu
from lightning_xfer.readers.saved_dataset import read_saved_dataset
from lightning_xfer.readers.sentence_pair_tsv import read_sentence_pair_tsv
from lightning_xfer.readers.squad_json import check_answers, read_squad_json
from lightning_xfer.readers.token_tsv import read_token_tsv

_SAVED_ANSWERS = "an answers column of {text: [...], answer_start: [...]}"


def read_tagging_file(path: Path, language: str) -> list[dict]:
    """XTREME's `token<TAB>label` files, or raw UD `.conllu` files."""
    if path.suffix == ".conllu":
        return read_conllu(path)
    return read_token_tsv(path, language)


def read_qa_file(path: Path, language: str) -> list[dict]:
    """SQuAD-format JSON, or a `save_to_disk` folder with SQuAD columns (id, context, question, answers).

    Questions without answers come back with `answers` None: whether the split needs them is for
    `load_split` to say (a test set whose answers are not public can still be predicted).
    """
    if not path.is_dir():
        return read_squad_json(path, labelled=False)
    return _read_saved_qa(path)


def _read_saved_qa(path: Path) -> list[dict]:
    """A saved dataset's rows, checked as SQuAD JSON is (unique ids, answers where they start)."""
    examples, seen = [], set()
    for number, row in enumerate(read_saved_dataset(path)):
        missing = [key for key in ("id", "context", "question") if key not in row]
        if missing:
            raise DataFormatError(path, None, f"row {number} lacks {missing}", "columns id, context, question, answers")
        question_id = str(row["id"])
        if question_id in seen:
            raise DataFormatError(path, None, f"question id {question_id} appears twice", "unique question ids")
        seen.add(question_id)
        answers = row.get("answers")
        if answers is not None:
            if not isinstance(answers, dict) or not {"text", "answer_start"} <= set(answers):
                raise DataFormatError(path, None, f"question {question_id}: answers {answers!r}", _SAVED_ANSWERS)
            answers = {"text": list(answers["text"]), "answer_start": list(answers["answer_start"])}
            check_answers(path, question_id, row["context"], answers["text"], answers["answer_start"])
        examples.append({"id": question_id, "title": row.get("title", ""), "context": row["context"],
                         "question": row["question"], "answers": answers})  # fmt: skip
    return examples


def read_pair_file(path: Path, language: str) -> list[dict]:
    """A sentence-pair classification TSV, with or without a header row."""
    return read_sentence_pair_tsv(path, paired=True)


def read_single_file(path: Path, language: str) -> list[dict]:
    """A single-sentence classification TSV, with or without a header row."""
    return read_sentence_pair_tsv(path, paired=False)
