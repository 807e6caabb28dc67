"""Precision, recall and F1 from counts: the one F1 formula of every scorer here.

SQuAD's and MLQA's token F1, seqeval's chunk F1 and XTREME's BUCC F1 all compute, in Python
floats and in this order, precision = correct / predicted, recall = correct / gold and
F1 = 2 * precision * recall / (precision + recall), with 0 where a denominator is 0. Keeping the
order keeps the last bit equal to the official scripts'.
"""

from __future__ import annotations

from typing import NamedTuple


class PrecisionRecallF1(NamedTuple):
    """Fractions in [0, 1]; the metrics report them x100."""

    precision: float
    recall: float
    f1: float


def precision_recall_f1(correct: int, predicted: int, gold: int) -> PrecisionRecallF1:
    """Scores of `correct` matches among `predicted` items against `gold` items."""
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PrecisionRecallF1(precision, recall, f1)
