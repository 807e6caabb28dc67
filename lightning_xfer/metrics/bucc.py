"""BUCC 2018 bitext mining: precision, recall and F1 of the predicted pair set against the gold set."""

from __future__ import annotations

from collections.abc import Mapping


def bucc_scores(predictions: Mapping[str, set], references: Mapping[str, set], language: str = "") -> dict[str, float]:
    """{"f1", "precision", "recall"} x100 over (source id, target id) pairs; duplicates count once."""
    predicted, gold = set(predictions["pairs"]), set(references["pairs"])
    correct = len(predicted & gold)
    precision = correct / len(predicted) if predicted else 0.0
    recall = correct / len(gold) if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"f1": 100.0 * f1, "precision": 100.0 * precision, "recall": 100.0 * recall}
