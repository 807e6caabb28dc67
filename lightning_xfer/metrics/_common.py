"""Checks shared by the metrics."""

from __future__ import annotations

from collections.abc import Mapping

from lightning_xfer.errors import UserError


def aligned(predictions: Mapping, references: Mapping) -> list:
    """The reference ids, after checking that every one of them has a prediction."""
    missing = [key for key in references if key not in predictions]
    if missing:
        raise UserError(f"{len(missing)} of {len(references)} examples have no prediction (e.g. {missing[:3]})")
    if not references:
        raise UserError("nothing to score: the reference set is empty")
    return list(references)
