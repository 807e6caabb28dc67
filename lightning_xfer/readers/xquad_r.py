"""LAReQA's XQuAD-R: SQuAD-format files per language with `sentences` and `sentence_breaks` per
paragraph. A question in one language is answered by the sentence holding its answer in *every*
language, retrieved from one pool of all languages' sentences. The pool is every `*.json` in the
folder (all 11 languages in the official release; whatever is there otherwise).

As XTREME-R (`utils_lareqa.generate_examples`): a sentence is `context[start:end]` of its break,
the breaks are end-exclusive (the answer sentence is the one with `start <= answer_start < end`;
an answer starting on a boundary belongs to the next sentence), and a question whose answer start
lies in no sentence is skipped. A candidate is encoded as its sentence followed directly by its
whole paragraph, newlines removed: `evaluate_retrieval.py` encodes `(sentence + context)` as one
string, and `processors/lareqa.py` builds the training answers the same way (its TODO notes the
two texts are not passed as a tokenizer pair).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from lightning_xfer.errors import DataFormatError

_EXPECTED = "XQuAD-R JSON: SQuAD format with 'sentences' and 'sentence_breaks' per paragraph"


def candidate_text(sentence: str, context: str) -> str:
    """What a LAReQA answer candidate is encoded as: the sentence, then its paragraph."""
    return (sentence + context).replace("\n", "")


def answer_sentence(breaks: list[tuple[int, int]], answer_start: int) -> int | None:
    """The position of the sentence holding `answer_start` (breaks are end-exclusive), or None."""
    return next((s for s, (begin, end) in enumerate(breaks) if begin <= answer_start < end), None)


def _answer_sentences(path: Path) -> tuple[list[tuple[str, str]], dict[str, str], list[dict]]:
    """(sentence id, candidate text) pairs, question id -> answer sentence id, and the questions."""
    language = path.stem
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DataFormatError(path, error.lineno, f"invalid JSON ({error.msg})", _EXPECTED) from None
    candidates, answer_of, questions = [], {}, []
    for a, article in enumerate(document.get("data", [])):
        for p, paragraph in enumerate(article["paragraphs"]):
            if "sentence_breaks" not in paragraph:
                raise DataFormatError(path, None, f"paragraph {a}/{p} has no sentence_breaks", _EXPECTED)
            context, breaks = paragraph["context"], paragraph["sentence_breaks"]
            ids = [f"{language}-{a}-{p}-{s}" for s in range(len(breaks))]
            candidates.extend((i, candidate_text(context[b:e], context)) for i, (b, e) in zip(ids, breaks, strict=True))
            for qa in paragraph["qas"]:
                sentence = answer_sentence(breaks, qa["answers"][0]["answer_start"])
                if sentence is not None:
                    answer_of[qa["id"]] = ids[sentence]
                    questions.append(qa)
    return candidates, answer_of, questions


def read_xquad_r(path: Path, language: str) -> list[dict]:
    path = Path(path)
    pool = {p.stem: _answer_sentences(p) for p in sorted(path.parent.glob("*.json"))}
    _, _, questions = pool[path.stem]
    examples = [
        {"id": f"{language}-{qa['id']}", "text": qa["question"], "side": "source", "index": i,
         "relevant": [answers[qa["id"]] for _, answers, _ in pool.values() if qa["id"] in answers]}
        for i, qa in enumerate(questions)
    ]  # fmt: skip
    for candidates, _, _ in pool.values():
        examples.extend(
            {"id": sid, "text": text, "side": "target", "index": i, "relevant": []}
            for i, (sid, text) in enumerate(candidates)
        )
    return examples


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def squad_to_answer_sentences(examples: list[dict]) -> list[dict]:
    """SQuAD questions paired with the candidate text of their answer sentence: LAReQA's training
    data. XTREME-R splits SQuAD paragraphs with a sentence breaker of its own (`sb_sed`); here a
    sentence ends at `.`, `!` or `?` followed by white space."""
    pairs = []
    for example in examples:
        if not example["answers"]["answer_start"]:
            continue
        context = example["context"]
        start, offset = example["answers"]["answer_start"][0], 0
        for sentence in _SENTENCE_END.split(context):
            begin = context.find(sentence, offset)
            offset = begin + len(sentence)
            if begin <= start < offset:
                pairs.append(
                    {"id": example["id"], "query": example["question"], "target": candidate_text(sentence, context)}
                )
                break
    return pairs
