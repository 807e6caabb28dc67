"""Offline presets: repeatable builds that reload like hub models; encoder options."""

import hashlib

import torch

from lightning_xfer.encoder.loading import load_encoder, load_tokenizer
from lightning_xfer.encoder.presets import preset_directory
from lightning_xfer.encoder.spec import EncoderSpec


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_preset_build_is_repeatable(tmp_path, monkeypatch):
    first = preset_directory("tiny", seed=0)
    monkeypatch.setenv("LIGHTNING_XFER_CACHE", str(tmp_path))
    second = preset_directory("tiny", seed=0)
    assert first != second
    for name in ("tokenizer.json", "model.safetensors", "config.json"):
        assert digest(first / name) == digest(second / name), name
    other_seed = preset_directory("tiny", seed=1)
    assert digest(other_seed / "model.safetensors") != digest(first / "model.safetensors")


def test_preset_tokenizer_follows_xlmr_conventions():
    tokenizer = load_tokenizer("tiny")
    assert (tokenizer.bos_token_id, tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id) == (
        0,
        1,
        2,
        3,
    )
    assert tokenizer.mask_token_id == len(tokenizer) - 1
    pair = tokenizer("Anna kicked the ball", "the ball")
    tokens = tokenizer.convert_ids_to_tokens(pair["input_ids"])
    assert tokens[0] == "<s>" and tokens.count("</s>") == 3 and tokens[-1] == "</s>"
    assert "▁kicked" in tokens  # whole words of the generated languages are pieces


def test_encoder_options():
    spec = EncoderSpec(name="tiny", freeze_embeddings=True, gradient_checkpointing=True, hidden_layer=1)
    encoder = load_encoder(spec)
    assert not encoder.get_input_embeddings().weight.requires_grad
    assert encoder.is_gradient_checkpointing
    assert not hasattr(encoder, "pooler") or encoder.pooler is None
    bf16 = load_encoder(EncoderSpec(name="tiny", dtype="bfloat16"))
    assert next(bf16.parameters()).dtype == torch.bfloat16


def test_hidden_layer_selects_that_layers_states():
    from lightning_xfer.model import XferModule
    from lightning_xfer.tasks import resolve_tasks
    from lightning_xfer.tasks.config import TaskConfig

    module = XferModule(EncoderSpec(name="tiny", hidden_layer=1), resolve_tasks([TaskConfig("synthetic-topic")]))
    module.configure_model()
    module.eval()
    batch = {"input_ids": torch.tensor([[0, 100, 200, 2]]), "attention_mask": torch.ones(1, 4, dtype=torch.long)}
    full = module.encoder(**batch, output_hidden_states=True).hidden_states
    assert module.heads["synthetic-topic"].layer == 1
    assert torch.equal(module.encode(batch, layer=1), full[1])
    assert torch.equal(module.encode(batch, layer=-1), full[-1])
