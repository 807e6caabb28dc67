"""Multiple choice (HellaSwag, CommonsenseQA, Cosmos QA, COPA/XCOPA, SIQA)."""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn import functional

from lightning_xfer.heads.output import Head, HeadOutput
from lightning_xfer.heads.pooling import Pooling, pool


class MultipleChoiceHead(Head):
    """One score per (context, choice) input from its pooled vector; softmax across the choices.

    The batch holds `num_choices` inputs per example, flattened to [batch * choices, tokens].
    """

    def __init__(self, hidden_size: int, dropout: float = 0.1, layer: int = -1, pooling: Pooling = "first"):
        super().__init__(layer)
        self.pooling = pooling
        self.dropout = nn.Dropout(dropout)
        self.scorer = nn.Linear(hidden_size, 1)

    def forward(self, hidden_states: Tensor, batch: dict[str, Tensor]) -> HeadOutput:
        num_choices = int(batch["num_choices"])
        pooled = pool(hidden_states, batch["attention_mask"], self.pooling)
        logits = self.scorer(self.dropout(pooled)).view(-1, num_choices).float()
        loss = functional.cross_entropy(logits, batch["labels"]) if "labels" in batch else None
        return HeadOutput(loss, logits)
