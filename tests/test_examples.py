"""Per-example records: they must add back up to the corpus score exactly, or a bootstrap over them
resamples a different metric. Hand-worked predictions for every metric, real decoding for every
family, and a quickstart `test` that writes `examples/<task>-<language>.jsonl` beside its results.
"""

import functools
import json
import operator
import random
import time
from types import SimpleNamespace

import datasets
import numpy
import pytest
import torch
from helpers import quickstart, results

from lightning_xfer.analysis.examples import example_path, read_examples
from lightning_xfer.data.datamodule import EvalSet
from lightning_xfer.evaluation import BY_EXAMPLE, example_records, score_eval_set
from lightning_xfer.families.family import FeatureSettings, merge_collected
from lightning_xfer.heads import HeadOutput
from lightning_xfer.metrics.accuracy import accuracy, accuracy_by_example
from lightning_xfer.metrics.f1 import precision_recall_f1
from lightning_xfer.metrics.masked_lm import masked_token_accuracy, masked_token_accuracy_by_example
from lightning_xfer.metrics.mlqa import mlqa_scores
from lightning_xfer.metrics.ranking import (
    average_precision_at_20,
    average_precision_at_20_by_example,
    reciprocal_rank_at_20,
    reciprocal_rank_at_20_by_example,
)
from lightning_xfer.metrics.seqeval_chunks import chunk_scores, chunk_scores_by_example, chunks
from lightning_xfer.metrics.squad import (
    squad_scores,
    squad_scores_by_example,
    squad_v2_scores,
)
from lightning_xfer.metrics.token_accuracy import token_accuracy
from lightning_xfer.tasks import get_task


def running_sum(values) -> float:
    """`total += value` in order, as the official scripts add (Python >= 3.12's `sum` compensates)."""
    return functools.reduce(operator.add, values, 0.0)


def aggregate(records: list[dict], metric) -> dict[str, float]:
    """The corpus score from per-example records alone, with each official script's arithmetic."""
    n = len(records)
    field = lambda name: [r[name] for r in records]  # noqa: E731
    if metric is accuracy:
        return {"accuracy": sum(field("correct")) / n * 100}
    if metric in (squad_scores, squad_v2_scores, mlqa_scores):
        return {
            "exact_match": 100.0 * running_sum(field("exact_match")) / n,
            "f1": 100.0 * running_sum(field("f1")) / n,
        }
    if metric is reciprocal_rank_at_20:
        return {"map@20": running_sum(field("reciprocal_rank")) / n * 100}
    if metric is average_precision_at_20:
        return {"map@20": float(numpy.mean(field("average_precision"))) * 100}
    if metric is chunk_scores:
        f1 = precision_recall_f1(sum(field("correct")), sum(field("predicted")), sum(field("gold")))
        accuracy_ = sum(field("tokens_correct")) / sum(field("tokens")) * 100
        return {
            "f1": f1.f1 * 100,
            "precision": f1.precision * 100,
            "recall": f1.recall * 100,
            "token_accuracy": accuracy_,
        }
    if metric is token_accuracy:
        return {"accuracy": sum(field("tokens_correct")) / sum(field("tokens")) * 100}
    if metric is masked_token_accuracy:
        return {"accuracy": sum(field("correct")) / sum(field("masked")) * 100}
    raise AssertionError(f"no aggregation for {metric}")


def by_example_records(by_example, predictions, references, language="") -> list[dict]:
    return [{"id": key, **values} for key, values in by_example(predictions, references, language).items()]


PANX_GOLD = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "O"], ["B-ORG", "I-ORG", "I-ORG"], ["I-PER", "O", "B-MISC"]]
PANX_PRED = [["B-PER", "I-PER", "O", "B-ORG"], ["B-LOC", "O"], ["B-ORG", "I-ORG", "O"], ["I-PER", "O", "B-MISC"]]
POS_GOLD = [["NOUN", "NOUN", "VERB", "SCONJ", "SYM", "INTJ", "PUNCT"], ["DET", "ADJ", "NOUN"]]
POS_PRED = [["NOUN", "VERB", "VERB", "SCONJ", "SCONJ", "INTJ", "PUNCT"], ["DET", "ADJ", "ADJ"]]
QA_REFERENCES = {"q1": ["the Eiffel Tower", "Eiffel Tower"], "q2": ["1889"], "q3": ["in Paris, France"], "q4": ["x"]}
QA_PREDICTIONS = {"q1": "Eiffel tower!", "q2": "in 1889", "q3": "Paris France capital", "q4": "nothing alike"}

HAND_WORKED = {
    "accuracy": (accuracy, {"a": "x", "b": "y", "c": "z"}, {"a": "x", "b": "x", "c": "x"}, ""),
    "squad": (squad_scores, QA_PREDICTIONS, QA_REFERENCES, ""),
    "squad_v2": (squad_v2_scores, {**QA_PREDICTIONS, "q5": "", "q6": "a"}, {**QA_REFERENCES, "q5": [], "q6": [""]}, ""),
    "mlqa-de": (mlqa_scores, {"d1": "der Turm.", "d2": "Berlin"}, {"d1": ["Turm"], "d2": ["in Berlin, Mitte"]}, "de"),
    "mlqa-zh": (mlqa_scores, {"z1": "北京大学", "z2": "上海"}, {"z1": ["北京"], "z2": ["上海。"]}, "zh"),
    "mrr": (
        reciprocal_rank_at_20,
        {"m1": ["a", "b", "c"], "m2": ["c", "a"], "m3": [str(i) for i in range(30)], "m4": ["z"] * 3},
        {"m1": "b", "m2": ["c"], "m3": "25", "m4": "z"},
        "",
    ),
    "map": (
        average_precision_at_20,
        {"l1": ["a", "x", "b", "y"], "l2": ["y", "y", "x"], "l3": ["p", "q", "r"]},
        {"l1": ["a", "b", "c"], "l2": ["x"], "l3": [str(i) for i in range(25)]},
        "",
    ),
    "panx": (chunk_scores, dict(enumerate(PANX_PRED)), dict(enumerate(PANX_GOLD)), ""),
    "udpos": (chunk_scores, dict(enumerate(POS_PRED)), dict(enumerate(POS_GOLD)), ""),
    "ccg": (token_accuracy, {"s1": ["N", "S/N"], "s2": ["NP"]}, {"s1": ["N", "N"], "s2": ["NP"]}, ""),
    "mlm": (masked_token_accuracy, {"t1": (3, 7), "t2": (0, 0), "t3": (5, 6)}, dict.fromkeys(["t1", "t2", "t3"]), ""),
}


@pytest.mark.parametrize("case", list(HAND_WORKED))
def test_records_add_up_to_the_corpus_score_exactly(case):
    metric, predictions, references, language = HAND_WORKED[case]
    records = by_example_records(BY_EXAMPLE[metric], predictions, references, language)
    assert [r["id"] for r in records] == list(references)
    assert aggregate(records, metric) == metric(predictions, references, language)  # to the last bit
    json.dumps(records)  # plain JSON values only


def test_scores_are_the_primary_metric_per_example_in_points():
    records = accuracy_by_example({"a": "x", "b": "y"}, {"a": "x", "b": "x"})
    assert [r["score"] for r in records.values()] == [100.0, 0.0]
    qa = squad_scores_by_example(QA_PREDICTIONS, QA_REFERENCES)
    assert [round(r["score"], 6) for r in qa.values()] == [100.0, 66.666667, 66.666667, 0.0]
    assert numpy.mean([r["score"] for r in qa.values()]) == pytest.approx(
        squad_scores(QA_PREDICTIONS, QA_REFERENCES)["f1"]
    )
    ranked = reciprocal_rank_at_20_by_example({"m": ["a", "b"]}, {"m": "b"})
    assert ranked["m"] == {"reciprocal_rank": 0.5, "score": 50.0}
    ap = average_precision_at_20_by_example({"l": ["a", "x", "b"]}, {"l": ["a", "b"]})
    assert ap["l"]["score"] == pytest.approx(100 * (1 + 2 / 3) / 2)
    assert masked_token_accuracy_by_example({"t": (0, 0)}, {"t": None})["t"]["score"] == 0.0


def test_tagging_counts_each_chunk_in_its_sentence_and_survive_resampling():
    records = chunk_scores_by_example(dict(enumerate(PANX_PRED)), dict(enumerate(PANX_GOLD)))
    for key, record in records.items():  # a sentence alone has the chunks counted for it
        gold, predicted = chunks([PANX_GOLD[key]]), chunks([PANX_PRED[key]])
        assert (record["correct"], record["predicted"], record["gold"]) == (
            len(gold & predicted),
            len(predicted),
            len(gold),
        )
        assert record["score"] == precision_recall_f1(*(record[k] for k in ("correct", "predicted", "gold"))).f1 * 100
    assert records[0] | {"score": None} == {
        "correct": 1,
        "predicted": 2,
        "gold": 2,
        "tokens_correct": 3,
        "tokens": 4,
        "score": None,
    }
    rng = random.Random(0)
    for _ in range(20):  # any subset of sentences: its summed counts give its own corpus F1
        subset = sorted(rng.sample(range(len(PANX_GOLD)), rng.randint(1, len(PANX_GOLD))))
        kept = [records[k] for k in subset]
        predictions, references = {k: PANX_PRED[k] for k in subset}, {k: PANX_GOLD[k] for k in subset}
        assert aggregate(kept, chunk_scores) == chunk_scores(predictions, references)


def test_bucc_has_no_per_example_records():
    bucc = get_task("bucc2018")
    assert bucc.metric not in BY_EXAMPLE
    assert example_records(EvalSet(bucc, None, "de", "test", None, None, FeatureSettings()), {"pairs": set()}) == []


LABELLED = {
    "xnli": [
        {"id": f"n{i}", "text": f"the team {i} won", "text_pair": "a game", "label": label}
        for i, label in enumerate(["entailment", "neutral", "contradiction"] * 4)
    ],
    "xcopa": [
        {"id": f"c{i}", "context": f"rain fell {i}", "question": "effect", "choices": ["wet", "dry"], "label": i % 2}
        for i in range(9)
    ],
    "panx": [{"id": f"p{i}", "tokens": ["Lena", "saw", "Anna", "in", "Rome"][: 2 + i % 4], "tags": tags}
             for i, tags in enumerate([["B-PER", "O"], ["B-PER", "O", "B-PER"], ["B-PER", "O", "B-PER", "O"],
                                       ["B-PER", "O", "B-PER", "O", "B-LOC"]] * 3)],
    "udpos": [{"id": f"u{i}", "tokens": ["the", "old", "dog", "barks"], "tags": ["DET", "ADJ", "NOUN", "VERB"]}
              for i in range(6)],
    "xquad": [
        {"id": f"x{i}", "context": "the tower was built in 1889 in paris by gustave eiffel for a fair",
         "question": "when was it built", "answers": {"text": [answer], "answer_start": [0]}}
        for i, answer in enumerate(["1889", "in paris", "gustave eiffel", "the tower"])
    ],
    "mlqa": [
        {"id": f"m{i}", "context": "der Turm wurde 1889 in Paris gebaut", "question": "wann",
         "answers": {"text": [answer], "answer_start": [0]}}
        for i, answer in enumerate(["1889", "in Paris", "der Turm"])
    ],
}  # fmt: skip


class _Encoder(torch.nn.Module):
    config = SimpleNamespace(hidden_size=16, layer_norm_eps=1e-5)


@pytest.mark.parametrize("task_name", list(LABELLED))
def test_records_of_a_real_decoding_add_up_to_its_scores(tiny_tokenizer, task_name):
    """Random heads through the family's collate, collect and decode, then `score_eval_set`."""
    torch.manual_seed(0)
    task = get_task(task_name)
    settings = FeatureSettings(max_length=64, doc_stride=16)
    dataset = datasets.Dataset.from_list(LABELLED[task_name])
    features = task.family.featurize(dataset, task, tiny_tokenizer, settings, training=False)
    features = features.add_column("feature_index", list(range(len(features))))
    head = task.family.build_head(task, _Encoder(), 0.0, -1, "first")
    batch = task.family.collate(features.to_list(), tiny_tokenizer)
    output = head(torch.randn(*batch["input_ids"].shape, 16), batch)
    collected = merge_collected([task.family.collect(batch, HeadOutput(None, output.logits), settings)])
    language = "de" if task_name == "mlqa" else "en"
    eval_set = EvalSet(task, None, language, "test", dataset, features, settings)
    scores, predictions = score_eval_set(eval_set, collected, "test")
    records = example_records(eval_set, predictions)
    assert [r["id"] for r in records] == [example["id"] for example in LABELLED[task_name]]
    assert aggregate(records, task.metric) == {s.metric: s.value for s in scores}
    assert all(0.0 <= r["score"] <= 100.0 for r in records)


@pytest.fixture(scope="module")
def tested(tmp_path_factory):
    root = tmp_path_factory.mktemp("quickstart")
    quickstart("fit", root, "--trainer.max_epochs=1", "--trainer.limit_train_batches=3")
    run = next(root.glob("lightning_logs/version_*"))
    assert not (run / "examples").exists()  # validation writes no examples
    started = time.perf_counter()
    quickstart("test", root, "--ckpt_path=last")
    return run, time.perf_counter() - started


def test_quickstart_test_writes_records_that_add_up_to_its_results(tested):
    run, _ = tested
    rows = [row for row in results(run / "results.jsonl") if row["stage"] == "test"]
    assert rows
    for row in rows:
        path = example_path(run.parent, run.name, row["task"], row["language"])
        records = [json.loads(line) for line in path.read_text().splitlines()]
        assert len(records) == row["examples"] == len({r["id"] for r in records})
        assert aggregate(records, accuracy)[row["metric"]] == row["value"]
        assert read_examples(path) == {r["id"]: r["score"] for r in records}  # the report reads them
    assert not list((run / "examples").glob(".*"))  # no temporary file left behind
