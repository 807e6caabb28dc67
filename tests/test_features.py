"""Feature conversion on real examples: QA windows and answer re-mapping, sub-word label alignment.

The strongest check needs no model: put the highest logit on the gold positions, run the same
decoding the evaluation runs, and the official metric must be 100. A label shifted by one
sub-word, a window mapped to the wrong characters or a lost word all break this.
"""

import itertools
from types import SimpleNamespace

import datasets
import pytest
import torch
from conftest import shared
from torch import nn

from lightning_xfer.data.datamodule import EvalSet
from lightning_xfer.errors import UserError
from lightning_xfer.evaluation import score_eval_set
from lightning_xfer.families.family import FeatureSettings, merge_collected
from lightning_xfer.families.span_qa import SpanQASettings, doc_spans, max_context_windows
from lightning_xfer.heads import HeadOutput
from lightning_xfer.heads.token_tagging import IGNORE_INDEX
from lightning_xfer.metrics.squad import normalize_answer
from lightning_xfer.readers.squad_json import read_squad_json
from lightning_xfer.readers.token_tsv import read_token_tsv
from lightning_xfer.tasks import TaskConfig, get_task, resolve_task


def featurize(task_name, examples, tokenizer, settings, training, qa=None):
    """Features of `examples` as the task's family makes them; `qa`: span QA's settings, resolved
    onto the family as a task config's `qa:` is."""
    task = get_task(task_name) if qa is None else resolve_task(TaskConfig(task_name, qa=qa))
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
        parts.append(task.family.collect(batch, HeadOutput(None, logits), settings))
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


def gold_answer_logits(examples):
    """Logits with all mass on each window's tokens of the first gold answer (when it is inside)."""

    def logits_for(row, width):
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

    return logits_for


def test_qa_decoding_with_gold_logits_scores_100(tokenizer):
    # Answers as slices of the context; XTREME's whitespace-word answers are tested in test_answer_text.py.
    settings = FeatureSettings(max_length=128, doc_stride=48)
    qa = SpanQASettings(answer_text="characters")
    examples = [  # answers the decoder can return: at most max_answer_length tokens
        e
        for e in read_squad_json(shared("xquad", "xquad.de.json"))[:250]
        if len(tokenizer(e["answers"]["text"][0], add_special_tokens=False)["input_ids"]) <= qa.max_answer_length
    ]
    assert len(examples) > 200
    task, dataset, features = featurize("xquad", examples, tokenizer, settings, training=False, qa=qa)
    assert len(features) > 1.5 * len(examples)  # really windowed

    predictions = oracle_decode(task, dataset, features, tokenizer, settings, gold_answer_logits(examples))
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


# --- QA windows: Hugging Face's overlap or XTREME's step and max-context filter ------------------
# One token each in the tiny vocabulary.
WORDS = ["old", "team", "saw", "dark", "fog", "near", "city", "won", "race", "soup", "rice", "drum"]


def windowed(tokenizer, windows, training=False):
    context = " ".join(WORDS)
    example = {"id": "q", "context": context, "question": "goal",
               "answers": {"text": ["fog"], "answer_start": [context.index("fog")]}}  # fmt: skip
    # <s> goal </s></s> context </s>: max_length 10 leaves 5 context tokens per window.
    settings = FeatureSettings(max_length=10, doc_stride=3)
    qa = SpanQASettings(windows=windows)
    task, dataset, features = featurize("xquad", [example], tokenizer, settings, training, qa)
    words = [[context[a:b].strip() for a, b in filter(None, row["offsets"])] for row in features]
    return task, dataset, features, settings, words


def test_huggingface_windows_overlap_by_doc_stride(tiny_tokenizer):
    *_, words = windowed(tiny_tokenizer, "huggingface")
    assert [w[0] for w in words] == ["old", "saw", "fog", "city", "race"]  # 5 tokens, 3 shared: step 2
    assert all(len(set(a) & set(b)) == 3 for a, b in itertools.pairwise(words))


def test_xtreme_windows_start_every_doc_stride_tokens(tiny_tokenizer):
    _, _, features, _, words = windowed(tiny_tokenizer, "xtreme", training=True)
    assert words == [WORDS[0:5], WORDS[3:8], WORDS[6:11], WORDS[9:12]]  # starts 0, 3, 6, 9
    # Max context, min(left, right) + 0.01 x length: "dark" (3) has 3|1 in window 0 and 0|4 in
    # window 1, so window 0; "fog" (4) has 4|0 and 1|3, so window 1; "rice" (10) has 4|0 in
    # window 2 and 1|1 in window 3, so window 3.
    flags = [
        [flag for flag, offset in zip(row["max_context"], row["offsets"], strict=True) if offset] for row in features
    ]
    assert flags == [[1, 1, 1, 1, 0], [0, 1, 1, 1, 0], [0, 1, 1, 1, 0], [0, 1, 1]]
    # The training answer "fog" is at the same place in both windows that hold it.
    assert [(row["start_positions"], row["end_positions"]) for row in features] == [(8, 8), (5, 5), (0, 0), (0, 0)]


def test_window_spans_and_max_context_by_hand():
    assert doc_spans(10, room=4, stride=3) == [(0, 4), (3, 4), (6, 4)]
    assert doc_spans(5, room=4, stride=2) == [(0, 4), (2, 3)]
    assert doc_spans(0, room=4, stride=2) == [(0, 0)]  # an empty context still gets a window
    assert max_context_windows([(0, 4), (3, 4), (6, 4)], 10) == [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
    # Equal context on the shorter side: the longer window wins (0.01 x length).
    assert max_context_windows([(0, 3), (0, 5)], 5) == [1, 1, 1, 1, 1]


def test_xtreme_decoding_reads_answers_only_from_max_context_windows(tiny_tokenizer):
    task, dataset, features, settings, _ = windowed(tiny_tokenizer, "xtreme")
    # Window 0 scores "fog" (its last context token, at position 8) highest, but window 0 is not
    # fog's max-context window; window 1 scores "near" (max context there, position 6) next best.
    scores = {0: {8: 10.0}, 1: {5: 1.0, 6: 5.0}}

    def logits_for(row, width):
        logits = torch.full((width, 2), -10.0)
        for position, score in scores.get(row["feature_index"], {}).items():
            logits[position] = score
        return logits

    assert oracle_decode(task, dataset, features, tiny_tokenizer, settings, logits_for) == {"q": "near"}
    without_filter = features.remove_columns("max_context")
    assert oracle_decode(task, dataset, without_filter, tiny_tokenizer, settings, logits_for) == {"q": "fog"}


def test_xtreme_windows_with_gold_logits_score_100_on_real_xquad(tiny_tokenizer):
    # XTREME's own settings: 384 tokens, a window every 128; every answer is read from the window
    # where its first token has the most context.
    settings = FeatureSettings(max_length=384, doc_stride=128)
    examples = [  # answers the decoder can return: at most max_answer_length tokens
        e
        for e in read_squad_json(shared("xquad", "xquad.de.json"))[:120]
        if len(tiny_tokenizer(e["answers"]["text"][0], add_special_tokens=False)["input_ids"]) <= 30
    ]
    assert len(examples) > 100
    xtreme = SpanQASettings(windows="xtreme")
    task, dataset, features = featurize("xquad", examples, tiny_tokenizer, settings, training=False, qa=xtreme)
    assert len(features) > 2 * len(examples)  # the tiny vocabulary makes long inputs: many windows
    predictions = oracle_decode(task, dataset, features, tiny_tokenizer, settings, gold_answer_logits(examples))
    assert task.metric(predictions, task.family.references(task, dataset), "de")["exact_match"] == 100.0


def test_collect_keeps_the_settings_n_best():
    logits = torch.randn(2, 40, 2)
    batch = {"feature_index": torch.tensor([0, 1])}

    def family(n_best):
        return resolve_task(TaskConfig("xquad", qa=SpanQASettings(n_best=n_best))).family

    assert family(3).collect(batch, HeadOutput(None, logits))["start_index"].shape == (2, 3)
    assert family(25).collect(batch, HeadOutput(None, logits))["end_index"].shape == (2, 25)
    default = get_task("xquad").family
    assert default.collect(batch, HeadOutput(None, logits))["end_index"].shape == (2, SpanQASettings().n_best)


# --- Unlabelled evaluation files: predictions without a loss, never a crash ---------------------
UNLABELLED = {
    "xnli": [{"id": "n1", "text": "the old team", "text_pair": "won", "label": None},
             {"id": "n2", "text": "dark fog", "text_pair": "near city", "label": None}],
    "xcopa": [{"id": "c1", "context": "the team won", "question": "cause", "choices": ["fast", "slow"], "label": -1},
              {"id": "c2", "context": "rain", "question": "effect", "choices": ["soup", "ball"], "label": -1}],
    "xcopa-no-label-column": [{"id": "c1", "context": "the team won", "question": "", "choices": ["fast", "slow"]}],
    "panx": [{"id": "p1", "tokens": ["Lena", "saw", "Anna"], "tags": []},
             {"id": "p2", "tokens": ["rain"], "tags": None}],
    "xquad": [{"id": "x1", "context": " ".join(WORDS), "question": "goal", "answers": None}],
}  # fmt: skip


class _Encoder(nn.Module):
    config = SimpleNamespace(hidden_size=16, layer_norm_eps=1e-5)

    def get_input_embeddings(self):
        return nn.Embedding(2000, 16)


@pytest.mark.parametrize("name", list(UNLABELLED))
def test_unlabelled_examples_are_predicted_without_a_loss(tiny_tokenizer, name):
    task_name = name.split("-")[0]
    settings = FeatureSettings(max_length=64, doc_stride=16)
    task, dataset, features = featurize(task_name, UNLABELLED[name], tiny_tokenizer, settings, training=False)
    head = task.family.build_head(task, _Encoder(), 0.0, -1, "first")
    batch = task.family.collate(features.to_list(), tiny_tokenizer)
    assert not {"labels", "start_positions"} & set(batch)
    output = head(torch.randn(*batch["input_ids"].shape, 16), batch)
    assert output.loss is None
    collected = merge_collected([task.family.collect(batch, output, settings)])
    predictions = task.family.decode(task, dataset, features, collected, settings)
    assert set(predictions) == {example["id"] for example in UNLABELLED[name]}
    assert task.family.references(task, dataset) == {}
    eval_set = EvalSet(task, None, "de", "test", dataset, features, settings)
    assert score_eval_set(eval_set, collected, "test") == ([], predictions)  # predicted, not scored
    with pytest.raises(UserError, match=r"without a label|no answers"):
        training = featurize(task_name, UNLABELLED[name], tiny_tokenizer, settings, training=True)[2]
        task.family.collate(training.to_list(), tiny_tokenizer, training=True)


def test_partly_labelled_sets_score_the_labelled_examples(tiny_tokenizer):
    examples = [{**UNLABELLED["xnli"][0], "label": "entailment"}, UNLABELLED["xnli"][1]]
    settings = FeatureSettings()
    task, dataset, features = featurize("xnli", examples, tiny_tokenizer, settings, training=False)
    assert task.family.references(task, dataset) == {"n1": "entailment"}
    collected = {"feature_index": torch.tensor([0, 1]), "prediction": torch.tensor([0, 0])}
    scores, predictions = score_eval_set(
        EvalSet(task, None, "de", "test", dataset, features, settings), collected, "test"
    )
    assert len(predictions) == 2 and [(s.metric, s.value, s.examples) for s in scores] == [("accuracy", 100.0, 1)]
