"""Exact-match accuracy per example: XNLI, PAWS-X, XCOPA, Tatoeba and the classification tasks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torchmetrics.functional.classification import multiclass_accuracy

from lightning_xfer.metrics._common import aligned


def accuracy(predictions: Mapping[str, Any], references: Mapping[str, Any], language: str = "") -> dict[str, float]:
    """{"accuracy": percent of examples whose prediction equals the reference}."""
    ids = aligned(predictions, references)
    classes = {
        value: i
        for i, value in enumerate(sorted({str(v) for v in references.values()} | {str(predictions[i]) for i in ids}))
    }
    predicted = torch.tensor([classes[str(predictions[i])] for i in ids])
    gold = torch.tensor([classes[str(references[i])] for i in ids])
    value = multiclass_accuracy(predicted, gold, num_classes=max(len(classes), 2), average="micro")
    return {"accuracy": 100.0 * float(value)}
