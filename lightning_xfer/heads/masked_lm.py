"""Masked language modelling, for the continued-MLM baseline of Phang et al. (2020)."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional

from lightning_xfer.heads.output import IGNORE_INDEX, Head, HeadOutput


class MaskedLMHead(Head):
    """XLM-R's LM head shape: dense, GELU, LayerNorm, then a decoder tied to the input embeddings.

    Tying keeps the 250k x hidden output matrix shared with the encoder, so the head adds only
    a hidden x hidden layer and a bias.
    """

    def __init__(self, hidden_size: int, input_embeddings: nn.Embedding, layer_norm_eps: float = 1e-5, layer: int = -1):
        super().__init__(layer)
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.layer_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.bias = nn.Parameter(torch.zeros(input_embeddings.num_embeddings))
        self._embeddings = [input_embeddings]  # a list so the tied matrix is not registered twice

    @property
    def tied_weight(self) -> nn.Parameter:
        """The encoder's input-embedding matrix, which this head's decoder shares."""
        return self._embeddings[0].weight

    def forward(self, hidden_states: Tensor, batch: dict[str, Tensor]) -> HeadOutput:
        labels = batch.get("labels")
        if labels is not None:  # only masked positions need vocabulary logits
            hidden_states = hidden_states[labels != IGNORE_INDEX]
        transformed = self.layer_norm(functional.gelu(self.dense(hidden_states)))
        logits = functional.linear(transformed, self.tied_weight, self.bias)
        loss = None
        if labels is not None:
            loss = functional.cross_entropy(logits.float(), labels[labels != IGNORE_INDEX])
        return HeadOutput(loss, logits)
