"""Readers that pick the format from the file itself, so one task accepts the layouts it ships in."""

from __future__ import annotations

from pathlib import Path

from lightning_xfer.readers.conllu import read_conllu
from lightning_xfer.readers.saved_dataset import read_saved_dataset
from lightning_xfer.readers.sentence_pair_tsv import read_sentence_pair_tsv
from lightning_xfer.readers.squad_json import read_squad_json
from lightning_xfer.readers.token_tsv import read_token_tsv


def read_tagging_file(path: Path, language: str) -> list[dict]:
    """XTREME's `token<TAB>label` files, or raw UD `.conllu` files."""
    if path.suffix == ".conllu":
        return read_conllu(path)
    return read_token_tsv(path, language)


def read_qa_file(path: Path, language: str) -> list[dict]:
    """SQuAD-format JSON, or a `save_to_disk` folder with SQuAD columns (id, context, question, answers)."""
    if path.is_dir():
        return [
            {"title": row.get("title", ""), **{k: row[k] for k in ("id", "context", "question", "answers")}}
            for row in read_saved_dataset(path)
        ]
    return read_squad_json(path)


def read_pair_file(path: Path, language: str) -> list[dict]:
    """A sentence-pair classification TSV, with or without a header row."""
    return read_sentence_pair_tsv(path, paired=True)


def read_single_file(path: Path, language: str) -> list[dict]:
    """A single-sentence classification TSV, with or without a header row."""
    return read_sentence_pair_tsv(path, paired=False)
