"""Sentence retrieval (Tatoeba, BUCC, LAReQA, Mewsli-X): pooled, L2-normalised embeddings.

Used with no training, as XTREME does for BUCC and Tatoeba, and trainable as a dual encoder with
an in-batch contrastive loss (each query's own target is the positive, the batch's other targets
are negatives), as LAReQA and Mewsli-X baselines are trained.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor, nn
from torch.nn import functional

from lightning_xfer.heads.output import HeadOutput


def pool(hidden_states: Tensor, attention_mask: Tensor, pooling: Literal["mean", "cls"]) -> Tensor:
    """Mean over real tokens, or the first token, then L2-normalised."""
    if pooling == "cls":
        pooled = hidden_states[:, 0]
    else:
        mask = attention_mask.unsqueeze(-1).to(hidden_states.dtype)
        pooled = (hidden_states * mask).sum(1) / mask.sum(1).clamp(min=1)
    return functional.normalize(pooled.float(), dim=-1)


class RetrievalHead(nn.Module):
    """No parameters but a learnable temperature: retrieval reads the encoder directly.

    `hidden_layer` picks the layer to pool (XTREME pools a middle layer: 7 of 12 for base models);
    None uses the encoder's configured layer.
    """

    def __init__(
        self,
        pooling: Literal["mean", "cls"] = "mean",
        hidden_layer: int | None = None,
        temperature: float = 0.05,
    ):
        super().__init__()
        self.pooling = pooling
        self.hidden_layer = hidden_layer
        self.log_inverse_temperature = nn.Parameter(torch.tensor(math.log(1 / temperature)))

    def embed(self, hidden_states: Tensor, attention_mask: Tensor) -> Tensor:
        return pool(hidden_states, attention_mask, self.pooling)

    def forward(
        self, hidden_states: Tensor, batch: dict[str, Tensor], target_hidden_states: Tensor | None = None
    ) -> HeadOutput:
        queries = self.embed(hidden_states, batch["attention_mask"])
        if target_hidden_states is None:
            return HeadOutput(None, queries)
        targets = self.embed(target_hidden_states, batch["target_attention_mask"])
        scores = queries @ targets.T * self.log_inverse_temperature.exp()
        loss = functional.cross_entropy(scores, torch.arange(len(scores), device=scores.device))
        return HeadOutput(loss, queries)
