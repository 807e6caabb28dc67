"""Sentence retrieval (Tatoeba, BUCC, LAReQA, Mewsli-X): pooled, L2-normalised embeddings.

Used with no training, as XTREME does for BUCC and Tatoeba (on its middle layer), and trainable as
a dual encoder with an in-batch contrastive loss (each query's own target is the positive, the
batch's other targets are negatives), as XTREME-R trains its LAReQA and Mewsli-X baselines (on the
last layer). The layer is the family's choice (`Retrieval.encoder_layer`) unless a task config's
`head_layer` names a `hidden_states` index.

XTREME-R's `BertForRetrieval` encodes with the first token through BERT's pooler (dense + tanh)
and starts its learned logit scale at 100. Given a `pooler`, this head does the same (the LAReQA and
Mewsli-X tasks pass the encoder's pretrained one and a scale of 100); without, it reads the first
token's state directly, and the task's `protocol: ours` starts the scale at 1 / `temperature` = 20.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional

from lightning_xfer.heads.output import Head, HeadOutput
from lightning_xfer.heads.pooling import Pooling, pool


class RetrievalHead(Head):
    """No parameters but a learnable temperature: retrieval reads the encoder directly.

    It reads the batch's own input and, when training a dual encoder, its paired `target_` input.
    """

    inputs = ("", "target_")

    def __init__(
        self,
        pooling: Pooling = "mean",
        layer: int = -1,
        temperature: float = 0.05,
        pooler_size: int | None = None,
        initializer_range: float = 0.02,
    ):
        """`layer`: the `hidden_states` index read (-1 the last); `temperature`: the initial one of
        the contrastive loss (learned); `pooler_size`: add BERT's pooler (a dense layer of this
        width, then tanh) on the pooled vector, initialised as BERT initialises it until
        `load_pooler` gives it the checkpoint's weights (the encoder itself loads without them)."""
        super().__init__(layer)
        self.pooling = pooling
        self.log_inverse_temperature = nn.Parameter(torch.tensor(math.log(1 / temperature)))
        self.pooler = None
        if pooler_size is not None:
            self.pooler = nn.Linear(pooler_size, pooler_size)
            nn.init.normal_(self.pooler.weight, std=initializer_range)
            nn.init.zeros_(self.pooler.bias)

    def load_pooler(self, weights: dict[str, Tensor]) -> bool:
        """Take a checkpoint's pooler (`weight`, `bias` of its dense layer); False when there is none."""
        if self.pooler is None or not weights:
            return False
        self.pooler.load_state_dict({key: value.to(self.pooler.weight.dtype) for key, value in weights.items()})
        return True

    def embed(self, hidden_states: Tensor, attention_mask: Tensor) -> Tensor:
        pooled = pool(hidden_states, attention_mask, self.pooling)
        if self.pooler is not None:
            pooled = torch.tanh(self.pooler(pooled.to(self.pooler.weight.dtype)))
        return functional.normalize(pooled.float(), dim=-1)

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
