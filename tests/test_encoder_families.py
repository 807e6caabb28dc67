"""Encoder families on tiny random models built offline: mT5's encoder stack, decoder-only BLOOM and
a Llama-style model (whose tokenizer has no padding token). Every head trains on each; a causal
model's sentence vector does not depend on padding; a causal model tags each word on its last
sub-word, checked on real UD sentences."""

from __future__ import annotations

import datasets
import pytest
import torch
from conftest import shared

from lightning_xfer.encoder.loading import encoder_kind, load_encoder, load_tokenizer, transformer_layers
from lightning_xfer.encoder.spec import EncoderSpec
from lightning_xfer.errors import UserError
from lightning_xfer.families.family import FeatureSettings, merge_collected
from lightning_xfer.heads import HeadOutput
from lightning_xfer.heads.pooling import pool
from lightning_xfer.model import XferModule
from lightning_xfer.readers.token_tsv import read_token_tsv
from lightning_xfer.tasks import TaskConfig, get_task, resolve_tasks

FAMILIES = {  # preset -> (kind, body class, layer class)
    "tiny": ("bidirectional", "XLMRobertaModel", "XLMRobertaLayer"),
    "tiny-mt5": ("seq2seq-encoder", "MT5EncoderModel", "MT5Block"),
    "tiny-bloom": ("causal", "BloomModel", "BloomBlock"),
    "tiny-llama": ("causal", "LlamaModel", "LlamaDecoderLayer"),
}
CONTEXT = "the old team won the cup in the city near the river"
LABELLED = {
    "xnli": [{"id": "n1", "text": "the old team", "text_pair": "won", "label": "entailment"},
             {"id": "n2", "text": "dark fog over the sea", "text_pair": "near city", "label": "neutral"}],
    "panx": [{"id": "p1", "tokens": ["Lena", "saw", "Anna"], "tags": ["B-PER", "O", "B-PER"]},
             {"id": "p2", "tokens": ["rain", "in", "Berlin"], "tags": ["O", "O", "B-LOC"]}],
    "xquad": [{"id": "x1", "context": CONTEXT, "question": "what did the team win",
               "answers": {"text": ["the cup"], "answer_start": [CONTEXT.index("the cup")]}}],
    "xcopa": [{"id": "c1", "context": "the team won", "question": "cause", "choices": ["fast", "slow"], "label": 0},
              {"id": "c2", "context": "rain", "question": "effect", "choices": ["soup", "ball"], "label": 1}],
}  # fmt: skip


@pytest.mark.parametrize("name", list(FAMILIES))
def test_each_family_loads_its_body_and_layers(name):
    kind, body, layer = FAMILIES[name]
    encoder = load_encoder(EncoderSpec(name=name))
    assert encoder_kind(name) == kind and type(encoder).__name__ == body
    assert type(transformer_layers(encoder)[0]).__name__ == layer  # FSDP2's units
    assert not any("decoder" in key for key in encoder.state_dict())  # mT5: the encoder stack only
    empty = load_encoder(EncoderSpec(name=name), empty=True)
    assert all(p.is_meta for p in empty.parameters()) and type(empty).__name__ == body


def test_a_tokenizer_without_a_pad_token_gets_one_that_changes_no_result():
    from transformers import AutoTokenizer

    from lightning_xfer.encoder.loading import resolve_encoder

    assert AutoTokenizer.from_pretrained(resolve_encoder("tiny-llama")).pad_token is None  # as Llama ships
    tokenizer = load_tokenizer("tiny-llama")
    assert tokenizer.pad_token == tokenizer.eos_token == "</s>"
    module = XferModule(EncoderSpec(name="tiny-llama"), resolve_tasks([TaskConfig("xnli")]))
    module.configure_model()
    module.eval()
    alone = tokenizer(["the old team won"], return_tensors="pt")
    padded = tokenizer(["the old team won", "dark fog over the old sea near the city"], padding=True,
                       return_tensors="pt")  # fmt: skip
    with torch.no_grad():
        one = module.forward_task("xnli", dict(alone)).logits
        both = module.forward_task("xnli", dict(padded)).logits
    assert torch.allclose(one[0], both[0], atol=1e-5)


@pytest.mark.parametrize("name", list(FAMILIES))
def test_every_head_trains_on_every_family(name):
    """Forward and backward of classification, tagging, span QA, multiple choice and a retrieval
    dual encoder; the loss reaches the encoder's first layer."""
    tasks = [*LABELLED, "tatoeba"]
    module = XferModule(EncoderSpec(name=name), resolve_tasks([TaskConfig(t) for t in tasks]))
    module.configure_model()
    tokenizer = load_tokenizer(name)
    settings = FeatureSettings(max_length=64, doc_stride=16, word_label="last" if "bloom" in name or
                               "llama" in name else "first")  # fmt: skip
    causal = FAMILIES[name][0] == "causal"
    assert module.heads["xnli"].pooling == ("last" if causal else "first")
    assert module.heads["tatoeba"].pooling == "mean"
    first_layer = transformer_layers(module.encoder)[0]
    for task_name, examples in LABELLED.items():
        task = get_task(task_name)
        features = task.family.featurize(datasets.Dataset.from_list(examples), task, tokenizer, settings, True)
        features = features.add_column("feature_index", list(range(len(features))))
        batch = task.family.collate(features.to_list(), tokenizer, training=True)
        module.zero_grad()
        output = module.forward_task(task_name, batch)
        assert torch.isfinite(output.loss), task_name
        output.loss.backward()
        gradients = [p.grad for p in first_layer.parameters() if p.grad is not None]
        assert gradients and any(g.abs().sum() > 0 for g in gradients), task_name
    texts = tokenizer(["the old team", "dark fog"], padding=True, return_tensors="pt")
    pair = {**texts, "target_input_ids": texts["input_ids"].flip(0), "target_attention_mask": texts["attention_mask"]
            .flip(0)}  # fmt: skip
    module.zero_grad()
    module.forward_task("tatoeba", pair).loss.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in first_layer.parameters())


def test_masked_lm_needs_a_mask_token():
    task = get_task("mlm")
    tokenizer = load_tokenizer("tiny-llama")
    tokenizer.mask_token = None
    with pytest.raises(UserError, match="mask token"):
        task.family.featurize(datasets.Dataset.from_list([{"id": "a", "text": "x"}]), task, tokenizer,
                              FeatureSettings(), True)  # fmt: skip


def _left_padded(tokenizer, texts):
    encoded = [tokenizer(text)["input_ids"] for text in texts]
    width = max(len(ids) for ids in encoded)
    input_ids = torch.tensor([[tokenizer.pad_token_id] * (width - len(ids)) + ids for ids in encoded])
    mask = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for ids in encoded])
    return {"input_ids": input_ids, "attention_mask": mask}


@pytest.mark.parametrize("name", ["tiny-bloom", "tiny-llama"])
@pytest.mark.parametrize("pooling", ["last", "mean"])
def test_causal_pooling_is_the_same_alone_and_in_a_left_or_right_padded_batch(name, pooling):
    module = XferModule(EncoderSpec(name=name), resolve_tasks([TaskConfig("xnli")]))
    module.configure_model()
    module.eval()
    tokenizer = load_tokenizer(name)
    texts = ["the old team won", "dark fog over the old sea near the city of rain"]

    def vectors(batch):
        with torch.no_grad():
            return pool(module.encode(batch, -1), batch["attention_mask"], pooling)

    alone = vectors(dict(tokenizer(texts[:1], return_tensors="pt")))[0]
    right = vectors(dict(tokenizer(texts, padding=True, return_tensors="pt")))[0]
    left_batch = _left_padded(tokenizer, texts)
    left = vectors(left_batch)[0]
    assert left_batch["attention_mask"][0, 0] == 0 and right.shape == alone.shape
    assert torch.allclose(alone, right, atol=1e-5) and torch.allclose(alone, left, atol=1e-5)
    if pooling == "last":  # the test can fail: a row's end counted as on the right misses it on the left
        with torch.no_grad():
            states = module.encode(left_batch, -1)
        counted_from_the_left = states[0, left_batch["attention_mask"][0].sum() - 1]
        assert not torch.allclose(alone, counted_from_the_left, atol=1e-3)


def test_first_token_pooling_on_a_causal_model_is_refused():
    module = XferModule(EncoderSpec(name="tiny-bloom", pooling="first"), resolve_tasks([TaskConfig("xnli")]))
    with pytest.raises(UserError, match="pooling=first on a causal"):
        module.configure_model()


@pytest.mark.real_data
def test_causal_tagging_labels_each_real_ud_word_on_its_last_subword():
    """English UD-POS (XTREME's file): every word is labelled exactly once, with its own tag, on the
    sub-word whose next token belongs to another word; decoding gold logits from overlapping
    windows gives back every sentence."""
    examples = read_token_tsv(shared("udpos_xtreme", "test-en.tsv"), "en")[:200]
    tokenizer = load_tokenizer("tiny-llama")
    task = get_task("udpos")
    dataset = datasets.Dataset.from_list(examples)
    settings = FeatureSettings(max_length=512, word_label="last")
    features = task.family.featurize(dataset, task, tokenizer, settings, True)
    assert len(features) == len(examples)  # one window each: positions map straight back
    before = len(tokenizer("a")["input_ids"]) - len(tokenizer("a", add_special_tokens=False)["input_ids"])
    for feature in features:
        words = examples[feature["example_index"]]["tokens"]
        word_ids = tokenizer(words, is_split_into_words=True, add_special_tokens=False).word_ids()
        labelled = [(p, w) for p, w in enumerate(feature["word_index"]) if w >= 0]
        assert [w for _, w in labelled] == list(range(len(words)))
        for position, word in labelled:
            j = position - before
            assert word_ids[j] == word and (j + 1 == len(word_ids) or word_ids[j + 1] != word)
            assert task.labels[feature["labels"][position]] == examples[feature["example_index"]]["tags"][word]
    multi = sum(word_ids.count(w) > 1 for w in set(word_ids))
    assert multi > 0  # the check above saw words of several sub-words

    windows = FeatureSettings(max_length=16, doc_stride=4, word_label="last")
    features = task.family.featurize(dataset, task, tokenizer, windows, False)
    features = features.add_column("feature_index", list(range(len(features))))
    assert len(features) > 1.5 * len(examples)
    parts = []
    rows = features.to_list()
    for start in range(0, len(rows), 32):
        chunk = rows[start : start + 32]
        batch = task.family.collate(chunk, tokenizer)
        logits = torch.zeros(*batch["input_ids"].shape, len(task.labels))
        for row, feature in enumerate(chunk):
            for position, word in enumerate(feature["word_index"]):
                if word >= 0:
                    tag = examples[feature["example_index"]]["tags"][word]
                    logits[row, position, task.labels.index(tag)] = 1.0
        parts.append(task.family.collect(batch, HeadOutput(None, logits), windows))
    predictions = task.family.decode(task, dataset, features, merge_collected(parts), windows)
    assert predictions == task.family.references(task, dataset)
