"""The model's shared mechanisms: one head interface, pooling choices, weight decay by module type."""

import pytest
import torch
from torch import nn

from lightning_xfer.encoder.spec import EncoderSpec
from lightning_xfer.heads.pooling import pool
from lightning_xfer.model import XferModule, parameters_by_decay
from lightning_xfer.tasks import TaskConfig, resolve_tasks


def test_pooling_first_mean_and_last_real_token():
    states = torch.arange(2 * 4 * 1, dtype=torch.float).view(2, 4, 1)  # token t of row r holds 4r + t
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1]])
    assert pool(states, mask, "first").flatten().tolist() == [0.0, 4.0]
    assert pool(states, mask, "mean").flatten().tolist() == [1.0, 5.5]  # padding left out
    assert pool(states, mask, "last").flatten().tolist() == [2.0, 7.0]  # the last non-padding token
    with pytest.raises(ValueError, match="first, mean or last"):
        pool(states, mask, "max")


def test_encoder_pooling_reaches_the_sequence_heads():
    module = XferModule(EncoderSpec(name="tiny", pooling="last"), resolve_tasks([TaskConfig("synthetic-topic")]))
    module.configure_model()
    module.eval()
    head = module.heads["synthetic-topic"]
    assert head.pooling == "last" and head.layer == -1
    batch = {"input_ids": torch.tensor([[0, 100, 200, 2, 1], [0, 100, 2, 1, 1]])}
    batch["attention_mask"] = (batch["input_ids"] != 1).long()
    logits = module.forward_task("synthetic-topic", batch).logits
    # Changing the states after each row's last real token changes nothing; changing the last one does.
    states = module.encode(batch, -1)
    expected = head.out_proj(head.dense(states[[0, 1], [3, 2]]).tanh())
    assert torch.allclose(logits, expected, atol=1e-5)


def test_every_head_reads_its_own_layer_through_one_interface():
    configs = [TaskConfig("synthetic-topic", head_layer=1), TaskConfig("tatoeba")]
    module = XferModule(EncoderSpec(name="tiny"), resolve_tasks(configs))
    module.configure_model()
    module.eval()
    batch = {"input_ids": torch.tensor([[0, 100, 200, 2]]), "attention_mask": torch.ones(1, 4, dtype=torch.long)}
    hidden = module.encoder(**batch, output_hidden_states=True).hidden_states
    topic = module.heads["synthetic-topic"]
    assert topic.layer == 1
    assert torch.allclose(module.forward_task("synthetic-topic", batch).logits,
                          topic.out_proj(topic.dense(hidden[1][:, 0]).tanh()), atol=1e-5)  # fmt: skip
    retrieval = module.heads["tatoeba"]
    mean = hidden[retrieval.layer].mean(1)
    expected = nn.functional.normalize(mean, dim=-1)
    assert torch.allclose(module.forward_task("tatoeba", batch).logits, expected, atol=1e-5)
    # A paired input is encoded too, and reaches the head as its second states: a contrastive loss.
    paired = {**batch, "target_input_ids": batch["input_ids"], "target_attention_mask": batch["attention_mask"]}
    assert module.forward_task("tatoeba", paired).loss is not None


class _Custom(nn.Module):
    """Norms named as other architectures name them, which name-based rules miss."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 4)
        self.ln_f = nn.LayerNorm(4)
        self.T5LayerNorm = type("T5LayerNorm", (nn.Module,), {})()
        self.T5LayerNorm.weight = nn.Parameter(torch.ones(4))
        self.final_rms = nn.RMSNorm(4)
        self.embed = nn.Embedding(10, 4)
        self.temperature = nn.Parameter(torch.tensor(1.0))
        self.frozen = nn.Linear(4, 4).requires_grad_(False)


def test_weight_decay_by_module_type_not_parameter_names():
    model = _Custom()
    decayed, not_decayed = parameters_by_decay(model)
    ids = lambda parameters: {id(p) for p in parameters}  # noqa: E731
    assert ids(decayed) == ids([model.proj.weight, model.embed.weight])
    assert ids(not_decayed) == ids(
        [model.proj.bias, model.ln_f.weight, model.ln_f.bias, model.T5LayerNorm.weight, model.final_rms.weight,
         model.temperature]
    )  # fmt: skip


def test_xlmr_encoder_decays_no_layernorm_or_bias():
    module = XferModule(EncoderSpec(name="tiny"), resolve_tasks([TaskConfig("synthetic-topic")]))
    module.configure_model()
    decayed, not_decayed = parameters_by_decay(module)
    names = {id(p): n for n, p in module.named_parameters()}
    assert all("LayerNorm" in names[id(p)] or names[id(p)].endswith("bias") for p in not_decayed)
    assert not any("LayerNorm" in names[id(p)] or names[id(p)].endswith("bias") for p in decayed)
    assert len(decayed) + len(not_decayed) == sum(p.requires_grad for p in module.parameters())
