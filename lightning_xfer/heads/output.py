"""What every head is and returns: the one interface the model calls."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

IGNORE_INDEX = -100
"""Label of positions without a target (sub-words after a word's first, special tokens, unmasked
tokens in MLM): no loss, no prediction. PyTorch's `cross_entropy` default, named once."""


@dataclass
class HeadOutput:
    """The loss (when the batch has labels) and the scores the evaluation decodes."""

    loss: Tensor | None
    logits: Tensor


class Head(nn.Module):
    """A task head: hidden states of one encoder layer and the batch in, a `HeadOutput` out.

    `layer` is the hidden layer the head reads (-1 the last, 0 the embeddings, k the output of
    layer k: `transformers`' `hidden_states[k]`). `inputs` names the texts of a batch the head
    reads, by the prefix of their `input_ids` key: "" the batch's own input; a dual encoder also
    reads "target_" (its paired text). The model encodes each named input present in the batch
    at `layer` and calls `head(hidden_states, batch, *paired_hidden_states)`, so no head needs
    special handling in the model.
    """

    inputs: tuple[str, ...] = ("",)

    def __init__(self, layer: int = -1):
        super().__init__()
        self.layer = layer
