"""Sentence and sentence-pair classification (XNLI, PAWS-X, MNLI, SST-2, QQP, ANLI)."""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn import functional

from lightning_xfer.heads.output import Head, HeadOutput
from lightning_xfer.heads.pooling import Pooling, pool


class SequenceClassificationHead(Head):
    """Classify one pooled vector (by default the first token, `<s>`) through a tanh layer, as
    XLM-R's own classifier does.

    A pair is one input (`<s> A </s></s> B </s>`), so pairs and single sentences share the head.
    """

    def __init__(
        self, hidden_size: int, num_labels: int, dropout: float = 0.1, layer: int = -1, pooling: Pooling = "first"
    ):
        super().__init__(layer)
        self.pooling = pooling
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.dropout = nn.Dropout(dropout)
        self.out_proj = nn.Linear(hidden_size, num_labels)

    def forward(self, hidden_states: Tensor, batch: dict[str, Tensor]) -> HeadOutput:
        pooled = self.dropout(pool(hidden_states, batch["attention_mask"], self.pooling))
        logits = self.out_proj(self.dropout(self.dense(pooled).tanh()))
        loss = functional.cross_entropy(logits.float(), batch["labels"]) if "labels" in batch else None
        return HeadOutput(loss, logits)
