"""Every head: output shapes, a finite loss that backpropagates, and no loss without labels."""

from types import SimpleNamespace

import torch
from torch import nn

from lightning_xfer.families.masked_lm import MaskedLM
from lightning_xfer.heads import (
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
    head = MultipleChoiceHead(H, dropout=0.0)
    choices = 4
    states = hidden(batch=B * choices)  # example-major: example i's choice j is row i * choices + j
    labels = torch.tensor([0, 3, 1])
    batch = {"num_choices": torch.tensor(choices), "attention_mask": mask(B * choices), "labels": labels}
    out = head(states, batch)
    assert out.logits.shape == (B, choices)
    # Each example's scores are its own choices' scores, in order...
    scores = head.scorer(states[:, 0]).squeeze(-1)
    assert torch.equal(out.logits, scores.view(B, choices))
    # ... and the loss is the mean over examples of -log softmax over that example's choices only.
    expected = torch.stack([torch.logsumexp(out.logits[i], 0) - out.logits[i, labels[i]] for i in range(B)]).mean()
    assert torch.allclose(out.loss, expected, atol=1e-6)
    # Changing example 1's inputs changes example 1's scores and nothing else.
    changed = states.detach().clone()
    changed[1 * choices : 2 * choices] += torch.randn(choices, T, H)
    moved = head(changed, batch).logits
    assert torch.equal(moved[[0, 2]], out.logits[[0, 2]]) and not torch.equal(moved[1], out.logits[1])
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
    encoder = SimpleNamespace(config=SimpleNamespace(hidden_size=H), get_input_embeddings=lambda: embeddings)
    head = MaskedLM().build_head(None, encoder, 0.0, -1, "first")
    labels = torch.full((B, T), IGNORE_INDEX)
    labels[0, 2], labels[2, 5] = 7, 11
    states = hidden()
    out = head(states, {"labels": labels})
    assert out.logits.shape == (2, 50)  # only the masked positions
    # The head owns no vocabulary x hidden matrix: dense, LayerNorm and the output bias only.
    assert sum(p.numel() for p in head.parameters()) == H * H + H + 2 * H + 50
    # Same storage: writing the embedding matrix in place changes the decoder's output at once.
    with torch.no_grad():
        embeddings.weight[7] = 0.0
        head.bias[7] = 0.5
    assert torch.equal(head(states, {"labels": labels}).logits[:, 7], torch.full((2,), 0.5))
    # And training the head trains the embeddings.
    out = head(states, {"labels": labels})
    assert_trains(out, states)
    assert embeddings.weight.grad is not None and embeddings.weight.grad[11].abs().sum() > 0
