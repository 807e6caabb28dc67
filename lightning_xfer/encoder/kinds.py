"""The three kinds of encoder a run may share between its heads, and what each needs.

- `bidirectional`: encoder-only models (XLM-R, mBERT, e5): `AutoModel` is the body, and every token
  has seen the whole input.
- `seq2seq-encoder`: the encoder stack of an encoder-decoder model (mT5, umT5, T5): `AutoModel`
  would build the whole sequence-to-sequence model, so the encoder class is chosen explicitly and
  the decoder is never built.
- `causal`: a decoder-only language model used as an encoder (BLOOM, Qwen2.5, Llama-family): token
  i has seen tokens 0..i only, so a sentence is read from its last token and a word from its last
  sub-word; position ids (where the model takes them) follow the attention mask, so a left-padded
  row is encoded as it would be alone.
"""

from __future__ import annotations

import inspect
from typing import Literal

import torch
from torch import Tensor
from transformers import AutoModel, MT5EncoderModel, PretrainedConfig, T5EncoderModel, UMT5EncoderModel
from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES, MODEL_FOR_MASKED_LM_MAPPING_NAMES

from lightning_xfer.errors import UserError

EncoderKind = Literal["bidirectional", "seq2seq-encoder", "causal"]

SEQ2SEQ_ENCODERS = {"mt5": MT5EncoderModel, "umt5": UMT5EncoderModel, "t5": T5EncoderModel}
"""Encoder stacks of the encoder-decoder families, by `config.model_type`."""


def kind_of(config: PretrainedConfig) -> EncoderKind:
    """Which kind `config` describes: encoder-decoder models by type or by their config's flag (an
    encoder stack saved on its own records `is_encoder_decoder: false`); a model with a causal-LM
    class and no masked-LM class is decoder-only (XLM-R has both: it is bidirectional)."""
    if config.model_type in SEQ2SEQ_ENCODERS or getattr(config, "is_encoder_decoder", False):
        return "seq2seq-encoder"
    causal = config.model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES
    if causal and config.model_type not in MODEL_FOR_MASKED_LM_MAPPING_NAMES:
        return "causal"
    return "bidirectional"


def body_class(config: PretrainedConfig) -> type:
    """The class of the encoder body: `AutoModel`'s, except the encoder stack of a seq2seq model."""
    if kind_of(config) == "seq2seq-encoder":
        if config.model_type not in SEQ2SEQ_ENCODERS:
            raise UserError(
                f"encoder-decoder model type {config.model_type!r} has no encoder class here; "
                f"supported: {', '.join(sorted(SEQ2SEQ_ENCODERS))}"
            )
        return SEQ2SEQ_ENCODERS[config.model_type]
    try:
        return AutoModel._model_mapping[type(config)]
    except KeyError:
        raise UserError(f"model type {config.model_type!r} has no AutoModel class in transformers") from None


def sentence_pooling(requested: str, kind: EncoderKind) -> str:
    """The pooling a sequence-level head uses: `auto` is the first token for an encoder and the last
    real token for a causal model (the only one that has seen the whole input)."""
    if requested == "auto":
        return "last" if kind == "causal" else "first"
    if requested == "first" and kind == "causal":
        raise UserError(
            "model.encoder.pooling=first on a causal (decoder-only) encoder: its first token has seen "
            "nothing but itself; use auto or last (the last real token) or mean"
        )
    return requested


def word_label_position(kind: EncoderKind) -> Literal["first", "last"]:
    """The sub-word that carries a word's tag: the first (XTREME's recipe) for encoders, the last for
    a causal model, whose first sub-word has not seen the rest of the word."""
    return "last" if kind == "causal" else "first"


def position_ids_from_mask(attention_mask: Tensor) -> Tensor:
    """Positions counted over real tokens only: 0, 1, 2, ... from each row's first real token, so a
    left-padded row gets the positions it would have alone (padding positions are 0, and masked).
    Rotary models (Llama, Qwen) are shift-invariant anyway; models with absolute positions (mGPT,
    GPT-2-style) are not, and `generate` counts positions the same way."""
    return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)


def takes_position_ids(model: torch.nn.Module) -> bool:
    """Whether the body's forward accepts `position_ids` (rotary models do; BLOOM's ALiBi reads the
    attention mask instead; XLM-R derives them from the padding token)."""
    return "position_ids" in inspect.signature(model.forward).parameters
