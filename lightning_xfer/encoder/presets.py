"""Offline encoder presets: randomly initialised models with a tokenizer trained here.

`tiny` and `small` are XLM-R; `tiny-mt5`, `tiny-bloom` and `tiny-llama` are the same size in the
other families the shared encoder accepts (mT5's encoder stack, decoder-only BLOOM and a
Llama-style model whose tokenizer, like Llama's, has no padding token), each tokenizing with its
family's special-token conventions. `world-tiny`, `world-small` and `world-medium` are XLM-R shapes
whose tokenizer is trained on the embedded world's pre-training corpus; the embedded study
pre-trains them on that corpus before anything else (`configs/studies/embedded.yaml`).

A preset is built once per (name, seed) into the cache with `save_pretrained`, so it reloads
exactly like a hub model and every code path (AutoModel, AutoTokenizer, hand-off) is the real
one. The weights are random: presets are for tests and the quick start, not for results.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from safetensors.torch import save_file
from transformers import (
    BloomConfig,
    BloomModel,
    LlamaConfig,
    LlamaModel,
    MT5Config,
    MT5EncoderModel,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    XLMRobertaConfig,
    XLMRobertaModel,
)

from lightning_xfer import synthetic
from lightning_xfer.cache import cache_dir
from lightning_xfer.encoder import tokenizer_training
from lightning_xfer.encoder.tokenizer_training import Conventions, train_unigram_tokenizer
from lightning_xfer.synthetic.world import WORLD

PRESET_VERSION = 2  # bump when the recipe changes, so stale caches are rebuilt


def _special_ids(tokenizer: PreTrainedTokenizerBase) -> dict[str, int | None]:
    return {"bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id,
            "pad_token_id": tokenizer.pad_token_id}  # fmt: skip


def xlm_roberta(preset: Preset, tokenizer: PreTrainedTokenizerBase) -> PreTrainedModel:
    config = XLMRobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=preset.hidden_size,
        num_hidden_layers=preset.num_hidden_layers,
        num_attention_heads=preset.num_attention_heads,
        intermediate_size=preset.intermediate_size,
        max_position_embeddings=514,  # XLM-R positions start after the padding index
        type_vocab_size=1,
        hidden_dropout_prob=preset.dropout,
        attention_probs_dropout_prob=preset.dropout,
        **_special_ids(tokenizer),
    )
    return XLMRobertaModel(config, add_pooling_layer=False)


def mt5_encoder(preset: Preset, tokenizer: PreTrainedTokenizerBase) -> PreTrainedModel:
    config = MT5Config(
        vocab_size=len(tokenizer),
        d_model=preset.hidden_size,
        d_kv=preset.hidden_size // preset.num_attention_heads,
        d_ff=preset.intermediate_size,
        num_layers=preset.num_hidden_layers,
        num_heads=preset.num_attention_heads,
        feed_forward_proj="gated-gelu",  # mT5's
        tie_word_embeddings=False,
        decoder_start_token_id=tokenizer.pad_token_id,
        **_special_ids(tokenizer),
    )
    return MT5EncoderModel(config)


def bloom(preset: Preset, tokenizer: PreTrainedTokenizerBase) -> PreTrainedModel:
    config = BloomConfig(
        vocab_size=len(tokenizer),
        hidden_size=preset.hidden_size,
        n_layer=preset.num_hidden_layers,
        n_head=preset.num_attention_heads,
        **_special_ids(tokenizer),
    )
    return BloomModel(config)


def llama(preset: Preset, tokenizer: PreTrainedTokenizerBase) -> PreTrainedModel:
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=preset.hidden_size,
        num_hidden_layers=preset.num_hidden_layers,
        num_attention_heads=preset.num_attention_heads,
        num_key_value_heads=1,  # grouped-query attention, as Llama 3 and Qwen2.5 use
        intermediate_size=preset.intermediate_size,
        max_position_embeddings=512,
        **_special_ids(tokenizer),
    )
    return LlamaModel(config)


@dataclass(frozen=True)
class Preset:
    """The shape of a preset encoder, its family's builder and its tokenizer's conventions."""

    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    vocab_size: int
    build: Callable[[Preset, PreTrainedTokenizerBase], PreTrainedModel] = xlm_roberta
    """Builds the randomly initialised body from the shape and the trained tokenizer."""
    conventions: Conventions = tokenizer_training.XLM_R
    corpus: Callable[[int], list[str]] = synthetic.corpus
    """Text the tokenizer is trained on, given the preset's seed."""
    corpus_name: str = ""
    """Names that text in the cached folder's name (the world's fingerprint for world encoders)."""
    dropout: float = 0.1
    """Dropout of the hidden states and attention (XLM-R builds). The world encoders use none: at
    hidden size 64 and a few thousand steps, dropout 0.1 kept a tiny encoder from learning to compare
    two segments (world-choice stayed at chance with it and reached 88% without, in 600 steps)."""


def world_corpus(seed: int) -> list[str]:
    """The embedded world's pre-training corpus (the same for every seed: the seed initialises weights)."""
    from lightning_xfer.synthetic.world.corpus import tokenizer_corpus

    return tokenizer_corpus(WORLD)


_TINY = {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 128,
         "vocab_size": 3000}  # fmt: skip
PRESETS = {
    "tiny": Preset(**_TINY),
    "small": Preset(
        hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024, vocab_size=8000
    ),
    "tiny-mt5": Preset(**_TINY, build=mt5_encoder, conventions=tokenizer_training.T5),
    "tiny-bloom": Preset(**_TINY, build=bloom, conventions=tokenizer_training.BLOOM),
    "tiny-llama": Preset(**_TINY, build=llama, conventions=tokenizer_training.LLAMA),
}
# The embedded world's encoders: XLM-R shapes with a tokenizer trained on the world's imbalanced
# pre-training corpus, randomly initialised; the embedded study pre-trains them (MLM) itself.
_WORLD = {"vocab_size": 2000, "corpus": world_corpus, "corpus_name": f"world{WORLD.fingerprint}", "dropout": 0.0}
PRESETS |= {
    "world-tiny": Preset(hidden_size=64, num_hidden_layers=4, num_attention_heads=2, intermediate_size=256, **_WORLD),
    "world-small": Preset(hidden_size=128, num_hidden_layers=4, num_attention_heads=4, intermediate_size=512, **_WORLD),
    "world-medium": Preset(
        hidden_size=256, num_hidden_layers=6, num_attention_heads=4, intermediate_size=1024, **_WORLD
    ),
}


def preset_directory(name: str, seed: int = 0) -> Path:
    """The cached `save_pretrained` folder of a preset, built on first use."""
    preset = PRESETS[name]
    corpus = f"-{preset.corpus_name}" if preset.corpus_name else ""
    directory = cache_dir("encoders") / f"{name}-seed{seed}-v{PRESET_VERSION}{corpus}"
    if (directory / "lightning_xfer_preset.json").exists():  # written last: the folder is whole
        return directory
    # A folder of this process's own: the ranks of a multi-process run may all build it at once.
    tmp = directory.with_name(f"{directory.name}.building-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tokenizer = train_unigram_tokenizer(preset.corpus(seed), preset.vocab_size, preset.conventions)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = preset.build(preset, tokenizer)
    config = model.config
    # Not `model.save_pretrained`: under torch.distributed it writes only on rank 0, and every rank of
    # a multi-process run may be the one that builds the preset.
    config.save_pretrained(tmp)
    save_file(_untied(model.state_dict()), tmp / "model.safetensors", metadata={"format": "pt"})
    tokenizer.save_pretrained(tmp)
    (tmp / "lightning_xfer_preset.json").write_text(
        json.dumps(
            {
                "preset": name,
                "seed": seed,
                "version": PRESET_VERSION,
                "family": type(model).__name__,
                **{k: v for k, v in asdict(preset).items() if k not in ("build", "conventions", "corpus")},
            },
            indent=2,
        )
    )
    try:
        tmp.replace(directory)
    except OSError:  # another process finished first; its copy is identical
        shutil.rmtree(tmp, ignore_errors=True)
    return directory


def _untied(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The state dict with each shared tensor once (mT5's `shared` and `encoder.embed_tokens` are one
    matrix; safetensors refuses to write it twice, and loading ties it again)."""
    seen: set[int] = set()
    kept = {}
    for key, tensor in state.items():
        if tensor.data_ptr() in seen:
            continue
        seen.add(tensor.data_ptr())
        kept[key] = tensor.contiguous()
    return kept
