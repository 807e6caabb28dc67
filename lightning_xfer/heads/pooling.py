"""One vector per sequence from its token states: the choice a head makes to read a sentence.

`first` is the first token (`<s>` / `[CLS]`), what encoder classifiers use; `mean` averages the
real tokens (XTREME's Tatoeba protocol); `last` is the last non-padding token, the only one that
has seen the whole input in a causal decoder used as an encoder.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

Pooling = Literal["first", "mean", "last"]


def pool(hidden_states: Tensor, attention_mask: Tensor, pooling: Pooling) -> Tensor:
    """[batch, tokens, hidden] -> [batch, hidden], whichever side the batch is padded on (our
    collates pad on the right; a causal model's batch may come left-padded)."""
    if pooling == "first":
        return hidden_states[:, 0]  # the encoders' `<s>`/`[CLS]`; special tokens are never padding
    if pooling == "mean":
        mask = attention_mask.unsqueeze(-1).to(hidden_states.dtype)
        return (hidden_states * mask).sum(1) / mask.sum(1).clamp(min=1)
    if pooling == "last":
        # The highest position that is a real token: the row's end under right padding, the batch's
        # last column under left padding.
        positions = torch.arange(1, attention_mask.shape[1] + 1, device=attention_mask.device)
        last = (attention_mask.long() * positions).argmax(1)
        return hidden_states[torch.arange(len(hidden_states), device=hidden_states.device), last]
    raise ValueError(f"unknown pooling {pooling!r}; expected first, mean or last")
