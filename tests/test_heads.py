"""Every head: output shapes, a finite loss that backpropagates, and no loss without labels."""

import torch
from torch import nn

from lightning_xfer.heads import (
    MaskedLMHead,
    MultipleChoiceHead,
    RetrievalHead,
    SequenceClassificationHead,
    SpanQAHead,
    TokenTaggingHead,
)
from lightning_xfer.heads.token_tagging import IGNORE_INDEX

H, B, T = 16, 3, 7


def hidden(batch=B, tokens=T):
    return torch.randn(batch, tokens, H, requires_grad=True)


def mask(batch=B, tokens=T):
    m = torch.ones(batch, tokens, dtype=torch.long)
    m[0, -2:] = 0
    return m


def assert_trains(output, states):
    assert output.loss is not None and torch.isfinite(output.loss)
    output.loss.backward()
    assert states.grad is not None and states.grad.abs().sum() > 0


def test_sequence_classification():
    head = SequenceClassificationHead(H, num_labels=3)
    states = hidden()
    out = head(states, {"attention_mask": mask(), "labels": torch.tensor([0, 2, 1])})
    assert out.logits.shape == (B, 3)
    assert_trains(out, states)
    assert head(hidden(), {"attention_mask": mask()}).loss is None


def test_token_tagging_ignores_unlabelled_positions():
    head = TokenTaggingHead(H, num_labels=5)
    states = hidden()
    labels = torch.full((B, T), IGNORE_INDEX)
    labels[:, 1] = torch.tensor([0, 3, 4])
    out = head(states, {"labels": labels})
    assert out.logits.shape == (B, T, 5)
    assert_trains(out, states)
    # Only position 1 carries a label, so only it receives gradient.
    assert states.grad[:, [0, 2, 3]].abs().sum() == 0


def test_span_qa_masks_padding():
    head = SpanQAHead(H)
    states, m = hidden(), mask()
    out = head(
        states,
        {"attention_mask": m, "start_positions": torch.tensor([1, 2, 0]), "end_positions": torch.tensor([2, 4, 0])},
    )
    assert out.logits.shape == (B, T, 2)
    assert (out.logits[0, -2:] < -1e30).all()
    assert_trains(out, states)


def test_multiple_choice_softmax_across_choices():
    head = MultipleChoiceHead(H)
    choices = 4
    states = hidden(batch=B * choices)
    batch = {
        "num_choices": torch.tensor(choices),
        "attention_mask": mask(B * choices),
        "labels": torch.tensor([0, 3, 1]),
    }
    out = head(states, batch)
    assert out.logits.shape == (B, choices)
    assert_trains(out, states)


def test_retrieval_pools_normalised_and_contrastive():
    head = RetrievalHead(pooling="mean")
    states, m = hidden(), mask()
    embeddings = head(states, {"attention_mask": m}).logits
    assert embeddings.shape == (B, H)
    assert torch.allclose(embeddings.norm(dim=-1), torch.ones(B), atol=1e-5)
    # Mean pooling ignores padding: changing padded positions changes nothing.
    changed = states.detach().clone()
    changed[0, -2:] += 100
    assert torch.allclose(head(changed, {"attention_mask": m}).logits, embeddings, atol=1e-5)
    targets = hidden()
    out = head(states, {"attention_mask": m, "target_attention_mask": mask()}, targets)
    assert_trains(out, states)
    cls = RetrievalHead(pooling="first")(states, {"attention_mask": m}).logits
    assert torch.allclose(cls, torch.nn.functional.normalize(states[:, 0].detach(), dim=-1), atol=1e-5)


def test_masked_lm_is_tied_to_the_embeddings():
    embeddings = nn.Embedding(50, H)
    head = MaskedLMHead(H, embeddings)
    labels = torch.full((B, T), IGNORE_INDEX)
    labels[0, 2], labels[2, 5] = 7, 11
    states = hidden()
    out = head(states, {"labels": labels})
    assert out.logits.shape == (2, 50)  # only the masked positions
    assert_trains(out, states)
    assert "weight" not in dict(head.named_parameters())  # the decoder matrix is the embedding's
    assert embeddings.weight.grad is not None
