"""Exact-match accuracy per example: XNLI, PAWS-X, XCOPA, Tatoeba and the classification tasks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lightning_xfer.metrics._common import aligned


def accuracy(predictions: Mapping[str, Any], references: Mapping[str, Any], language: str = "") -> dict[str, float]:
    """{"accuracy": percent of examples whose prediction equals the reference}.

    XTREME's scorer computes `correct / total * 100` in Python floats (1 of 3 gives
    33.33333333333333, where `100 * 1 / 3` gives 33.333333333333336); so does this.
    """
    ids = aligned(predictions, references)
    correct = sum(str(predictions[key]) == str(references[key]) for key in ids)
    return {"accuracy": correct / len(ids) * 100}


def accuracy_by_example(
    predictions: Mapping[str, Any], references: Mapping[str, Any], language: str = ""
) -> dict[str, dict[str, float]]:
    """Per example {"correct": 0 or 1, "score": 0 or 100}, in reference order.

    `sum(correct) / n * 100` is `accuracy` to the last bit (the mean of `score` may differ there).
    """
    ids = aligned(predictions, references)
    correct = {key: int(str(predictions[key]) == str(references[key])) for key in ids}
    return {key: {"correct": right, "score": 100.0 * right} for key, right in correct.items()}
