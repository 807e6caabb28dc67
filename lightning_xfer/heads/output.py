"""What every head returns."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor


@dataclass
class HeadOutput:
    """The loss (when the batch has labels) and the scores the evaluation decodes."""

    loss: Tensor | None
    logits: Tensor
