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
    ids = aligned(predictions, references)
    exact = f1 = 0.0
    for key in ids:
        prediction = normalize(predictions[key])
        golds = [normalize(g) for g in references[key]]
        if empty_is_an_answer:
            golds = [gold for gold in golds if gold]
        golds = golds or [""]
        exact += max(float(prediction == gold) for gold in golds)
        f1 += max(_f1(tokenize(prediction), tokenize(gold), empty_is_an_answer) for gold in golds)
    return {"exact_match": 100.0 * exact / len(ids), "f1": 100.0 * f1 / len(ids)}


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
