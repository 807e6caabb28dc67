"""Building the encoder under DeepSpeed ZeRO-3, where parameters are partitioned as they are created.

Lightning's `DeepSpeedStrategy` calls `configure_model` inside `deepspeed.zero.Init`, so every
parameter is partitioned across the ranks as soon as it exists. `from_pretrained` must then load
into those partitions; `transformers` does so (rank 0 reads the files, the partitions are filled
module by module) only while an `HfDeepSpeedConfig` is alive, which `zero3_loading` provides. A
head that reads another module's weight outside that module's forward (the masked-LM head's
decoder, tied to the input embeddings) must say so, or ZeRO-3 hands it an empty partition.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

from torch import nn

from lightning_xfer.heads.masked_lm import MaskedLMHead


def is_zero3(strategy) -> bool:
    return bool(getattr(strategy, "zero_stage_3", False))


@contextlib.contextmanager
def zero3_loading(strategy) -> Iterator[None]:
    """While open, `from_pretrained` knows that ZeRO-3 partitions the model it builds."""
    if not is_zero3(strategy):
        yield
        return
    from transformers.integrations.deepspeed import HfDeepSpeedConfig, unset_hf_deepspeed_config

    config = HfDeepSpeedConfig(strategy.config)  # transformers keeps only a weak reference: hold it here
    try:
        yield
    finally:
        unset_hf_deepspeed_config()
        del config


def register_tied_weights(strategy, heads: Iterable[nn.Module]) -> None:
    """Tell ZeRO-3 which heads use the encoder's embedding matrix in their own forward."""
    if not is_zero3(strategy):
        return
    import deepspeed

    for head in heads:
        if isinstance(head, MaskedLMHead):
            deepspeed.zero.register_external_parameter(head, head.tied_weight)
