"""LAReQA's XQuAD-R: SQuAD-format files per language with `sentences` and `sentence_breaks` per
paragraph. A question in one language is answered by the sentence holding its answer in *every*
language, retrieved from one pool of all languages' sentences. The pool is every `*.json` in the
folder (all 11 languages in the official release; whatever is there otherwise)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from lightning_xfer.errors import DataFormatError

_EXPECTED = "XQuAD-R JSON: SQuAD format with 'sentences' and 'sentence_breaks' per paragraph"


def _answer_sentences(path: Path) -> tuple[list[tuple[str, str]], dict[str, str], list[dict]]:
    """(sentence id, sentence) pairs, question id -> answer sentence id, and the questions."""
    language = path.stem
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DataFormatError(path, error.lineno, f"invalid JSON ({error.msg})", _EXPECTED) from None
    sentences, answer_of, questions = [], {}, []
    for a, article in enumerate(document.get("data", [])):
        for p, paragraph in enumerate(article["paragraphs"]):
            if "sentence_breaks" not in paragraph:
                raise DataFormatError(path, None, f"paragraph {a}/{p} has no sentence_breaks", _EXPECTED)
            ids = [f"{language}-{a}-{p}-{s}" for s in range(len(paragraph["sentence_breaks"]))]
            sentences.extend(zip(ids, paragraph["sentences"], strict=True))
            for qa in paragraph["qas"]:
                start = qa["answers"][0]["answer_start"]
                for sentence_id, (begin, end) in zip(ids, paragraph["sentence_breaks"], strict=True):
                    if begin <= start <= end:
                        answer_of[qa["id"]] = sentence_id
                        break
                questions.append(qa)
    return sentences, answer_of, questions


def read_xquad_r(path: Path, language: str) -> list[dict]:
    path = Path(path)
    pool = {p.stem: _answer_sentences(p) for p in sorted(path.parent.glob("*.json"))}
    sentences, _, questions = pool[path.stem]
    examples = [
        {"id": f"{language}-{qa['id']}", "text": qa["question"], "side": "source", "index": i,
         "relevant": [answers[qa["id"]] for _, answers, _ in pool.values() if qa["id"] in answers]}
        for i, qa in enumerate(questions)
    ]  # fmt: skip
    for _, (sentences, _, _) in pool.items():
        examples.extend(
            {"id": sid, "text": text, "side": "target", "index": i, "relevant": []}
            for i, (sid, text) in enumerate(sentences)
        )
    return examples


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def squad_to_answer_sentences(examples: list[dict]) -> list[dict]:
    """SQuAD questions paired with the sentence holding their answer: LAReQA's training data."""
    pairs = []
    for example in examples:
        if not example["answers"]["answer_start"]:
            continue
        start, offset = example["answers"]["answer_start"][0], 0
        for sentence in _SENTENCE_END.split(example["context"]):
            begin = example["context"].find(sentence, offset)
            offset = begin + len(sentence)
            if begin <= start < offset:
                pairs.append({"id": example["id"], "query": example["question"], "target": sentence})
                break
    return pairs
