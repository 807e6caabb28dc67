"""BUCC 2018 bitext mining: precision, recall and F1 of the predicted pair set against the gold set."""

from __future__ import annotations

from collections.abc import Mapping

from lightning_xfer.metrics.f1 import precision_recall_f1


def bucc_scores(predictions: Mapping[str, set], references: Mapping[str, set], language: str = "") -> dict[str, float]:
    """{"f1", "precision", "recall"} x100 over (source id, target id) pairs; duplicates count once."""
    predicted, gold = set(predictions["pairs"]), set(references["pairs"])
    scores = precision_recall_f1(len(predicted & gold), len(predicted), len(gold))
    return {"f1": scores.f1 * 100, "precision": scores.precision * 100, "recall": scores.recall * 100}
