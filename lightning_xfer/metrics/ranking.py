"""Ranking metrics of XTREME-R's retrieval tasks, both reported under the name `map@20`.

- Mewsli-X: mean reciprocal rank of the one gold entity within the top 20 (0 when it is not there).
- LAReQA: mean average precision over the top 20 of a pool that holds every language's candidates;
  each question has one relevant answer per language, and AP@20 divides by min(relevant, 20).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy

from lightning_xfer.errors import UserError
from lightning_xfer.metrics._common import aligned

CUTOFF = 20


def _ranked(predictions: Mapping[str, Sequence[str]], key: str) -> list[str]:
    ranked = predictions[key]
    if isinstance(ranked, str) or not isinstance(ranked, Sequence):
        raise UserError(f"example {key}: expected a ranked list of ids, got {type(ranked).__name__}")
    return [str(r) for r in ranked[:CUTOFF]]


def reciprocal_rank_at_20(
    predictions: Mapping[str, Sequence[str]], references: Mapping[str, str], language: str = ""
) -> dict[str, float]:
    """{"map@20": mean over queries of 1/rank of the gold id in the top 20}, x100."""
    ranks = _reciprocal_ranks(predictions, references)
    total = 0.0
    for value in ranks.values():
        total += value
    return {"map@20": total / len(ranks) * 100}  # Mewsli-X: `sum(ranks) / len(ranks)`, then x100


def reciprocal_rank_at_20_by_example(
    predictions: Mapping[str, Sequence[str]], references: Mapping[str, str], language: str = ""
) -> dict[str, dict[str, float]]:
    """Per query {"reciprocal_rank": in [0, 1], "score": x100}, in reference order.

    `total / n * 100`, with `total += reciprocal_rank` in record order, is `reciprocal_rank_at_20` to
    the last bit.
    """
    ranks = _reciprocal_ranks(predictions, references)
    return {key: {"reciprocal_rank": value, "score": value * 100} for key, value in ranks.items()}


def _reciprocal_ranks(predictions: Mapping[str, Sequence[str]], references: Mapping[str, str]) -> dict[str, float]:
    ranks = {}
    for key in aligned(predictions, references):
        gold = references[key]
        gold = str(gold[0] if isinstance(gold, list) else gold)
        ranked = _ranked(predictions, key)
        ranks[key] = 1.0 / (ranked.index(gold) + 1) if gold in ranked else 0.0
    return ranks


def average_precision_at_20(
    predictions: Mapping[str, Sequence[str]], references: Mapping[str, Sequence[str]], language: str = ""
) -> dict[str, float]:
    """{"map@20": mean over questions of AP@20}, x100; repeated ids in a ranking count once."""
    per_question = list(_average_precisions(predictions, references).values())
    # LAReQA's script averages with `np.mean` (pairwise summation), which a plain sum can miss
    # in the last bit; the same call gives the same number.
    return {"map@20": float(numpy.mean(per_question)) * 100}


def average_precision_at_20_by_example(
    predictions: Mapping[str, Sequence[str]], references: Mapping[str, Sequence[str]], language: str = ""
) -> dict[str, dict[str, float]]:
    """Per question {"average_precision": AP@20 in [0, 1], "score": x100}, in reference order.

    `numpy.mean` of the average precisions, in order, x100 is `average_precision_at_20` to the last bit.
    """
    precisions = _average_precisions(predictions, references)
    return {key: {"average_precision": value, "score": value * 100} for key, value in precisions.items()}


def _average_precisions(
    predictions: Mapping[str, Sequence[str]], references: Mapping[str, Sequence[str]]
) -> dict[str, float]:
    per_question = {}
    for key in aligned(predictions, references):
        relevant = {str(r) for r in references[key]}
        hits, precision_sum, seen = 0, 0.0, set()
        for rank, candidate in enumerate(_ranked(predictions, key), start=1):
            if candidate in relevant and candidate not in seen:
                hits += 1
                precision_sum += hits / rank
            seen.add(candidate)
        per_question[key] = precision_sum / min(len(relevant), CUTOFF) if relevant else 0.0
    return per_question
