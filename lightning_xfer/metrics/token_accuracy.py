"""Per-token accuracy over all words (CCG supertagging's metric)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lightning_xfer.errors import UserError
from lightning_xfer.metrics._common import aligned


def token_accuracy(
    predictions: Mapping[str, Sequence[str]], references: Mapping[str, Sequence[str]], language: str = ""
) -> dict[str, float]:
    """{"accuracy": percent of tokens whose predicted tag equals the gold tag}."""
    ids = aligned(predictions, references)
    right = total = 0
    for key in ids:
        if len(predictions[key]) != len(references[key]):
            raise UserError(f"example {key}: {len(predictions[key])} predicted tags for {len(references[key])} tokens")
        right += sum(p == g for p, g in zip(predictions[key], references[key], strict=True))
        total += len(references[key])
    return {"accuracy": right / total * 100 if total else 0.0}


def token_accuracy_by_example(
    predictions: Mapping[str, Sequence[str]], references: Mapping[str, Sequence[str]], language: str = ""
) -> dict[str, dict[str, float]]:
    """Per sentence {"tokens_correct", "tokens", "score": the sentence's accuracy x100 (0 when empty)}.

    Summed, `tokens_correct / tokens * 100` is `token_accuracy` to the last bit.
    """
    records = {}
    for key in aligned(predictions, references):
        if len(predictions[key]) != len(references[key]):
            raise UserError(f"example {key}: {len(predictions[key])} predicted tags for {len(references[key])} tokens")
        right = sum(p == g for p, g in zip(predictions[key], references[key], strict=True))
        total = len(references[key])
        records[key] = {"tokens_correct": right, "tokens": total, "score": right / total * 100 if total else 0.0}
    return records
