"""Masked-token accuracy, for monitoring the continued-MLM baseline (not an XTREME metric)."""

from __future__ import annotations

from collections.abc import Mapping


def masked_token_accuracy(
    predictions: Mapping[str, tuple[int, int]], references: Mapping[str, None], language: str = ""
) -> dict[str, float]:
    """{"accuracy": percent of masked tokens predicted exactly}, pooled over all examples."""
    correct = sum(predictions[key][0] for key in references if key in predictions)
    masked = sum(predictions[key][1] for key in references if key in predictions)
    return {"accuracy": correct / masked * 100 if masked else 0.0}


def masked_token_accuracy_by_example(
    predictions: Mapping[str, tuple[int, int]], references: Mapping[str, None], language: str = ""
) -> dict[str, dict[str, float]]:
    """Per evaluated example {"correct", "masked": token counts, "score": its accuracy x100 (0 when
    nothing was masked)}. Summed, `correct / masked * 100` is `masked_token_accuracy` to the last bit."""
    records = {}
    for key in references:
        if key in predictions:
            correct, masked = predictions[key]
            records[key] = {"correct": correct, "masked": masked, "score": correct / masked * 100 if masked else 0.0}
    return records
