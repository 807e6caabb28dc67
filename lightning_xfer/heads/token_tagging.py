"""Token tagging (PAN-X NER, UD-POS, CCG supertags): one label per word, on its first sub-word."""

from __future__ import annotations

from torch import Tensor, nn
from torch.nn import functional

from lightning_xfer.heads.output import IGNORE_INDEX, Head, HeadOutput


class TokenTaggingHead(Head):
    """A linear layer over every token; the loss only counts positions with a label."""

    def __init__(self, hidden_size: int, num_labels: int, dropout: float = 0.1, layer: int = -1):
        super().__init__(layer)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden_size, num_labels)

    def forward(self, hidden_states: Tensor, batch: dict[str, Tensor]) -> HeadOutput:
        logits = self.classifier(self.dropout(hidden_states))
        loss = None
        if "labels" in batch:
            loss = functional.cross_entropy(
                logits.float().flatten(0, 1), batch["labels"].flatten(), ignore_index=IGNORE_INDEX
            )
        return HeadOutput(loss, logits)
