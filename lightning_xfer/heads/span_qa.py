"""Extractive span QA (SQuAD, XQuAD, MLQA, TyDiQA-GoldP): start and end logits per token."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional

from lightning_xfer.heads.output import Head, HeadOutput


class SpanQAHead(Head):
    """Start/end scores for every token; logits come back as [batch, tokens, 2].

    Windows that do not contain the answer are trained to point at the first token, as BERT's
    SQuAD recipe does; decoding (n-best over context tokens only) lives in the data family.
    """

    def __init__(self, hidden_size: int, dropout: float = 0.0, layer: int = -1):
        super().__init__(layer)
        self.dropout = nn.Dropout(dropout)
        self.qa_outputs = nn.Linear(hidden_size, 2)

    def forward(self, hidden_states: Tensor, batch: dict[str, Tensor]) -> HeadOutput:
        logits = self.qa_outputs(self.dropout(hidden_states)).float()
        padding = batch["attention_mask"] == 0
        logits = logits.masked_fill(padding.unsqueeze(-1), torch.finfo(logits.dtype).min)
        loss = None
        if "start_positions" in batch:
            start = functional.cross_entropy(logits[..., 0], batch["start_positions"])
            end = functional.cross_entropy(logits[..., 1], batch["end_positions"])
            loss = (start + end) / 2
        return HeadOutput(loss, logits)
