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
    ids = aligned(predictions, references)
    total = 0.0
    for key in ids:
        gold = references[key]
        gold = str(gold[0] if isinstance(gold, list) else gold)
        ranked = _ranked(predictions, key)
        total += 1.0 / (ranked.index(gold) + 1) if gold in ranked else 0.0
    return {"map@20": total / len(ids) * 100}  # Mewsli-X: `sum(ranks) / len(ranks)`, then x100


def average_precision_at_20(
    predictions: Mapping[str, Sequence[str]], references: Mapping[str, Sequence[str]], language: str = ""
) -> dict[str, float]:
    """{"map@20": mean over questions of AP@20}, x100; repeated ids in a ranking count once."""
    ids = aligned(predictions, references)
    per_question = []
    for key in ids:
        relevant = {str(r) for r in references[key]}
        hits, precision_sum, seen = 0, 0.0, set()
        for rank, candidate in enumerate(_ranked(predictions, key), start=1):
            if candidate in relevant and candidate not in seen:
                hits += 1
                precision_sum += hits / rank
            seen.add(candidate)
        per_question.append(precision_sum / min(len(relevant), CUTOFF) if relevant else 0.0)
    # LAReQA's script averages with `np.mean` (pairwise summation), which a plain sum can miss
    # in the last bit; the same call gives the same number.
    return {"map@20": float(numpy.mean(per_question)) * 100}
