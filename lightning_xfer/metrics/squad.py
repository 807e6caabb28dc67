"""SQuAD v1.1 exact match and F1, the scorer XTREME uses for XQuAD and TyDiQA-GoldP.

Answers are normalised the SQuAD way for every language: lower-cased, ASCII punctuation and the
English articles a/an/the removed, whitespace collapsed; F1 counts overlapping whitespace tokens.
Each prediction is scored against its best-matching gold answer.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from lightning_xfer.metrics._common import aligned
from lightning_xfer.metrics.f1 import precision_recall_f1

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """SQuAD v1.1 normalisation."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def token_f1(prediction_tokens: Sequence[str], gold_tokens: Sequence[str]) -> float:
    """Harmonic mean of token precision and recall (0 when nothing overlaps)."""
    overlap = sum((Counter(prediction_tokens) & Counter(gold_tokens)).values())
    return precision_recall_f1(overlap, len(prediction_tokens), len(gold_tokens)).f1


def span_scores(
    predictions: Mapping[str, str],
    references: Mapping[str, Sequence[str]],
    normalize: Callable[[str], str],
    tokenize: Callable[[str], list[str]] = str.split,
    empty_is_an_answer: bool = False,
) -> dict[str, float]:
    """Mean over questions of the best EM and F1 against any gold answer, x100.

    `empty_is_an_answer` is SQuAD v2.0's rule: gold answers that normalise to "" are dropped, a
    question left without one has the gold answer "", and when either side is empty F1 is 1 if
    both are, else 0.
    """
    per_question = question_scores(predictions, references, normalize, tokenize, empty_is_an_answer)
    exact = f1 = 0.0
    for question_exact, question_f1 in per_question.values():  # summed in order, as the scripts do
        exact += question_exact
        f1 += question_f1
    return {"exact_match": 100.0 * exact / len(per_question), "f1": 100.0 * f1 / len(per_question)}


def question_scores(
    predictions: Mapping[str, str],
    references: Mapping[str, Sequence[str]],
    normalize: Callable[[str], str],
    tokenize: Callable[[str], list[str]] = str.split,
    empty_is_an_answer: bool = False,
) -> dict[str, tuple[float, float]]:
    """Per question, in reference order, the best (EM, F1) against any gold answer, each in [0, 1]:
    the values the official scripts add up (see `span_scores`)."""
    scores = {}
    for key in aligned(predictions, references):
        prediction = normalize(predictions[key])
        golds = [normalize(g) for g in references[key]]
        if empty_is_an_answer:
            golds = [gold for gold in golds if gold]
        golds = golds or [""]
        scores[key] = (
            max(float(prediction == gold) for gold in golds),
            max(_f1(tokenize(prediction), tokenize(gold), empty_is_an_answer) for gold in golds),
        )
    return scores


def span_records(per_question: Mapping[str, tuple[float, float]]) -> dict[str, dict[str, float]]:
    """Per question {"exact_match", "f1"} in [0, 1], as the scripts add them up, and "score": F1 x100.

    `100.0 * total / n`, with `total += value` in record order, is the corpus score to the last bit.
    """
    return {key: {"exact_match": em, "f1": f1, "score": 100.0 * f1} for key, (em, f1) in per_question.items()}


def _f1(prediction: list[str], gold: list[str], empty_is_an_answer: bool) -> float:
    if empty_is_an_answer and (not prediction or not gold):
        return float(prediction == gold)
    return token_f1(prediction, gold)


def squad_v2_scores(
    predictions: Mapping[str, str], references: Mapping[str, Sequence[str]], language: str = ""
) -> dict[str, float]:
    """{"exact_match", "f1"} of the SQuAD v2.0 script (unanswerable questions count)."""
    return span_scores(predictions, references, normalize_answer, empty_is_an_answer=True)


def squad_scores(
    predictions: Mapping[str, str], references: Mapping[str, Sequence[str]], language: str = ""
) -> dict[str, float]:
    """{"exact_match", "f1"} with SQuAD v1.1 normalisation, whatever the language."""
    return span_scores(predictions, references, normalize_answer)


def squad_v2_scores_by_example(
    predictions: Mapping[str, str], references: Mapping[str, Sequence[str]], language: str = ""
) -> dict[str, dict[str, float]]:
    """`squad_v2_scores` per question (see `span_records`)."""
    return span_records(question_scores(predictions, references, normalize_answer, empty_is_an_answer=True))


def squad_scores_by_example(
    predictions: Mapping[str, str], references: Mapping[str, Sequence[str]], language: str = ""
) -> dict[str, dict[str, float]]:
    """`squad_scores` per question (see `span_records`)."""
    return span_records(question_scores(predictions, references, normalize_answer))
