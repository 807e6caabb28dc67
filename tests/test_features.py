"""Feature conversion on real examples: QA windows and answer re-mapping, sub-word label alignment.

The strongest check needs no model: put the highest logit on the gold positions, run the same
decoding the evaluation runs, and the official metric must be 100. A label shifted by one
sub-word, a window mapped to the wrong characters or a lost word all break this.
"""

import datasets
import pytest
import torch
from conftest import shared

from lightning_xfer.families.family import FeatureSettings, merge_collected
from lightning_xfer.heads import HeadOutput
from lightning_xfer.heads.token_tagging import IGNORE_INDEX
from lightning_xfer.metrics.squad import normalize_answer
from lightning_xfer.readers.squad_json import read_squad_json
from lightning_xfer.readers.token_tsv import read_token_tsv
from lightning_xfer.tasks import get_task


def featurize(task_name, examples, tokenizer, settings, training):
    task = get_task(task_name)
    dataset = datasets.Dataset.from_list(examples)
    features = task.family.featurize(dataset, task, tokenizer, settings, training)
    return task, dataset, features.add_column("feature_index", list(range(len(features))))


def oracle_decode(task, dataset, features, tokenizer, settings, logits_for):
    """Run collate -> collect -> decode with logits that put all mass on `logits_for(feature)`."""
    parts = []
    rows = features.to_list()
    for start in range(0, len(rows), 16):
        chunk = rows[start : start + 16]
        batch = task.family.collate(chunk, tokenizer)
        logits = torch.stack([logits_for(row, batch["input_ids"].shape[1]) for row in chunk])
        parts.append(task.family.collect(batch, HeadOutput(None, logits)))
    return task.family.decode(task, dataset, features, merge_collected(parts), settings)


def qa_settings(max_length=384, doc_stride=128):
    return FeatureSettings(max_length=max_length, doc_stride=doc_stride)


@pytest.mark.parametrize("language", ["en", "de", "ru"])
def test_qa_training_positions_map_back_to_the_answer_text(tokenizer, language):
    examples = read_squad_json(shared("xquad", f"xquad.{language}.json"))[:300]
    settings = qa_settings(max_length=128, doc_stride=48)  # small windows: many examples span several
    _, _, features = featurize("xquad", examples, tokenizer, settings, training=True)
    inside = misaligned = 0
    for feature in features:
        start, end = feature["start_positions"], feature["end_positions"]
        if start == 0:
            continue
        inside += 1
        example = examples[feature["example_index"]]
        span = example["context"][feature["offsets"][start][0] : feature["offsets"][end][1]]
        answer = example["answers"]["text"][0]
        # The span is the answer, widened at most to whole sub-words ("(118)" for "118").
        assert answer in span
        misaligned += normalize_answer(span) != normalize_answer(answer)
    assert inside >= 290  # every question has its answer inside at least one window
    assert misaligned <= 0.02 * inside


def test_qa_decoding_with_gold_logits_scores_100(tokenizer):
    settings = qa_settings(max_length=128, doc_stride=48)
    examples = [  # answers the decoder can return: at most max_answer_length tokens
        e
        for e in read_squad_json(shared("xquad", "xquad.de.json"))[:250]
        if len(tokenizer(e["answers"]["text"][0], add_special_tokens=False)["input_ids"]) <= settings.max_answer_length
    ]
    assert len(examples) > 200
    task, dataset, features = featurize("xquad", examples, tokenizer, settings, training=False)
    assert len(features) > 1.5 * len(examples)  # really windowed

    def gold(row, width):
        example = examples[row["example_index"]]
        start_char = example["answers"]["answer_start"][0]
        end_char = start_char + len(example["answers"]["text"][0])
        logits = torch.full((width, 2), -10.0)
        spans = [(k, s) for k, s in enumerate(row["offsets"]) if s is not None]
        starts = [k for k, s in spans if s[0] <= start_char < s[1]]
        ends = [k for k, s in spans if s[0] < end_char <= s[1]]
        if starts and ends:
            logits[starts[0], 0] = logits[ends[-1], 1] = 10.0
        return logits

    predictions = oracle_decode(task, dataset, features, tokenizer, settings, gold)
    references = task.family.references(task, dataset)
    # Exact up to sub-word granularity: a gold answer that ends inside a sub-word ("1960" in
    # "1960er") cannot be cut out of it by any span model with this tokenizer.
    assert task.metric(predictions, references, "de")["exact_match"] >= 99.0
    for example in examples:
        assert predictions[example["id"]] in example["context"]  # a slice of the original context
        assert example["answers"]["text"][0] in predictions[example["id"]]


def test_tagging_labels_sit_on_first_subwords(tokenizer):
    examples = read_token_tsv(shared("panx_xtreme", "test-de.tsv"), "de")[:300]
    task, _, features = featurize("panx", examples, tokenizer, FeatureSettings(max_length=128), True)
    for feature in features:
        example = examples[feature["example_index"]]
        for label, word in zip(feature["labels"], feature["word_index"], strict=True):
            if word < 0:
                assert label == IGNORE_INDEX
            else:
                assert task.labels[label] == example["tags"][word]
        # The first sub-word of a word is the one whose tokens spell the word's start.
        words = [w for w in feature["word_index"] if w >= 0]
        assert words == sorted(set(words))


@pytest.mark.parametrize("max_length", [128, 16])
def test_tagging_decoding_with_gold_logits_scores_100(tokenizer, max_length):
    """With max_length 16 nearly every sentence is split into overlapping windows."""
    examples = read_token_tsv(shared("udpos_xtreme", "test-en.tsv"), "en")[:300]
    settings = FeatureSettings(max_length=max_length, doc_stride=4)
    task, dataset, features = featurize("udpos", examples, tokenizer, settings, training=False)
    if max_length == 16:
        assert len(features) > 1.5 * len(examples)

    def gold(row, width):
        logits = torch.zeros(width, len(task.labels))
        for position, word in enumerate(row["word_index"]):
            if word >= 0:
                logits[position, task.labels.index(examples[row["example_index"]]["tags"][word])] = 1.0
        return logits

    predictions = oracle_decode(task, dataset, features, tokenizer, settings, gold)
    references = task.family.references(task, dataset)
    assert predictions == references
    assert task.metric(predictions, references, "en")["f1"] == 100.0


def test_words_that_tokenise_to_nothing_still_get_a_prediction(tokenizer):
    examples = [{"id": "s", "tokens": ["Berlin", "\u200b", "ist"], "tags": ["B-LOC", "O", "O"]}]
    _, _, features = featurize("panx", examples, tokenizer, FeatureSettings(), False)
    assert sorted(w for w in features[0]["word_index"] if w >= 0) == [0, 1, 2]
