"""The `score` command: official layout, official keys, the same numbers the test step logged."""

import json

import pytest
from conftest import shared
from helpers import cli, results

from lightning_xfer.metrics.bucc import bucc_scores
from lightning_xfer.metrics.ranking import average_precision_at_20, reciprocal_rank_at_20
from lightning_xfer.scoring import (
    benchmark_groups,
    benchmark_languages,
    format_report,
    score_command,
    score_submission,
)

# (task, language, gold file in ../shared/data as the benchmark distributes it, submission extension)
GOLD = [
    ("panx", "sw", ("panx_xtreme", "test-sw.tsv"), "tsv"),
    ("udpos", "vi", ("udpos_xtreme", "test-vi.tsv"), "tsv"),
    ("xnli", "de", ("xnli_de", "test.txt"), "tsv"),
    ("pawsx", "de", ("pawsx_de", "test.tsv"), "tsv"),
    ("xquad", "de", ("xquad", "xquad.de.json"), "json"),
    ("tydiqa", "sw", ("tydiqa_goldp", "swahili_tydiqa_dev.json"), "json"),
    ("tatoeba", "de", None, "tsv"),
]


@pytest.fixture(scope="module")
def submission(tmp_path_factory):
    """The tiny encoder's test predictions on real files, and the labels folder beside them."""
    root = tmp_path_factory.mktemp("roundtrip")
    tasks = [
        {"name": "panx", "data_dir": str(shared("panx_xtreme")), "languages": ["sw"]},
        {"name": "udpos", "data_dir": str(shared("udpos_xtreme")), "languages": ["vi"]},
        {"name": "xnli", "data_dir": str(shared("xnli_de")), "files": {"test": "test.txt"}, "languages": ["de"]},
        {"name": "pawsx", "data_dir": str(shared("pawsx_de")), "files": {"test": "test.tsv"}, "languages": ["de"]},
        {"name": "xquad", "data_dir": str(shared("xquad")), "languages": ["de"]},
        {"name": "tydiqa", "data_dir": str(shared("tydiqa_goldp")), "files": {"test": "{language}_tydiqa_dev.json"},
         "languages": ["sw"]},
        {"name": "tatoeba", "data_dir": str(shared("tatoeba")), "languages": ["de"]},
    ]  # fmt: skip
    cli("test", "--model.encoder.name=tiny", f"--trainer.default_root_dir={root}", "--trainer.logger=false",
        "--trainer.enable_progress_bar=false", f"--data.tasks={json.dumps(tasks)}", "--data.eval_batch_size=128",
        "--results.path", str(root / "results.jsonl"), "--submission.on_test=true",
        "--submission.dirpath", str(root / "predictions"))  # fmt: skip
    labels = root / "labels"
    for task, language, gold, extension in GOLD:
        target = labels / task / f"test-{language}.{extension}"
        target.parent.mkdir(parents=True, exist_ok=True)
        if gold is None:  # Tatoeba's gold is the line-aligned index
            target.write_text("".join(f"{i}\n" for i in range(1000)))
        else:
            target.symlink_to(shared(*gold))
    return root


def test_score_reproduces_the_logged_test_scores(submission):
    report = score_submission(submission / "predictions", submission / "labels", "xtreme")
    # one language per task: each is listed as a problem, and no task gets an average over fewer
    assert len(report.problems) == 7 and all("no predictions and no labels for" in p for p in report.problems)
    logged = {(r["task"], r["language"], r["metric"]): r["value"] for r in results(submission / "results.jsonl")}
    compared = 0
    for task, scores in report.detailed.items():
        for metric, by_language in scores.items():
            if isinstance(by_language, dict):
                for language, value in by_language.items():
                    assert value == pytest.approx(logged[(task, language, metric)], abs=1e-9), (task, metric)
                    compared += 1
    assert compared == 15  # panx 4 + udpos 4 metrics, xnli, pawsx, tatoeba 1, xquad, tydiqa 2
    assert set(report.detailed) == {"panx", "udpos", "xnli", "pawsx", "xquad", "tydiqa", "tatoeba"}
    assert not [key for scores in report.detailed.values() for key in scores if key.startswith("avg_")]
    assert report.overall == {}
    assert "xquad" in format_report(report)


def write_files(root, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def squad_json(answers: dict[str, str]) -> str:
    context = "The Eiffel Tower stands in Paris since 1889."
    qas = [{"id": key, "question": "?", "answers": [{"text": text, "answer_start": context.index(text)}]}
           for key, text in answers.items()]  # fmt: skip
    return json.dumps({"version": "1.1", "data": [{"title": "t", "paragraphs": [{"context": context, "qas": qas}]}]})


def test_score_of_a_hand_built_submission_is_known_by_hand(tmp_path):
    labels, predictions = tmp_path / "labels", tmp_path / "predictions"
    write_files(labels, {
        "xnli/test-de.tsv": "entailment\nneutral\ncontradiction\nneutral\n",
        "xnli/test-en.tsv": "neutral\nentailment\n",
        **{f"pawsx/test-{language}.tsv": "id\tsentence1\tsentence2\tlabel\n1\ta\tb\t1\n2\tc\td\t0\n"
           for language in ("en", "de", "es", "fr", "ja", "ko", "zh")},
        "panx/test-de.tsv": "Ada\tB-PER\nLovelace\tI-PER\nin\tO\nLondon\tB-LOC\n",
        "udpos/test-de.tsv": "Hunde\tNOUN\nbellen\tVERB\n",
        "xquad/test-de.json": squad_json({"q1": "Eiffel Tower", "q2": "in Paris"}),
    })  # fmt: skip
    write_files(predictions, {
        "xnli/test-de.tsv": "entailment\nneutral\ncontradiction\nentailment\n",  # 3 of 4
        "xnli/test-en.tsv": "neutral\nneutral\n",  # 1 of 2
        **{f"pawsx/test-{language}.tsv": "1\n0\n" for language in ("de", "es", "fr", "ja", "ko", "zh")},  # 2 of 2
        "pawsx/test-en.tsv": "0\n1\n",  # 0 of 2
        "panx/test-de.tsv": "B-PER\nI-PER\nO\nO\n",  # PER found, LOC missed
        "udpos/test-de.tsv": "NOUN\nVERB\n",
        "xquad/test-de.json": json.dumps({"q1": "the Eiffel Tower", "q2": "Paris France"}),
    })  # fmt: skip
    report = score_submission(predictions, labels, "xtreme")
    # PAWS-X has all 7 languages (en 0 of 2 right, the others 2 of 2): the only task with an average.
    # The others have some of theirs: each is a problem, scored per language, never averaged over fewer.
    assert sorted(p.split(":")[0] for p in report.problems) == ["panx", "udpos", "xnli", "xquad"]
    assert "xnli: no predictions and no labels for ar, bg, el, es, fr, hi, ru, sw, th, tr, ur, vi, zh; xtreme " \
           "averages xnli over its 15 languages" in report.problems[0]  # fmt: skip
    pawsx = {"en": 0.0, **{language: 100.0 for language in ("de", "es", "fr", "ja", "ko", "zh")}}
    assert report.detailed == {
        "xnli": {"accuracy": {"de": 75.0, "en": 50.0}},
        "pawsx": {"accuracy": pawsx, "avg_accuracy": 600 / 7, "avg_metric": 600 / 7},
        # 1 of 1 predicted entity is right, 1 of 2 gold entities found: F1 2 x 1 x 0.5 / 1.5.
        "panx": {"f1": {"de": 66.66666666666666}, "precision": {"de": 100.0}, "recall": {"de": 50.0},
                 "token_accuracy": {"de": 75.0}},
        "udpos": {"f1": {"de": 100.0}, "precision": {"de": 100.0}, "recall": {"de": 100.0},
                  "token_accuracy": {"de": 100.0}},
        # q1 exact after normalisation; q2 "paris france" vs "in paris": P 1/2, R 1/2, F1 1/2.
        "xquad": {"exact_match": {"de": 50.0}, "f1": {"de": 75.0}},
    }  # fmt: skip
    assert report.overall == {}  # every group has a task without all its languages
    text = format_report(report)
    assert "test / xnli" in text and "avg_metric  pawsx 85.71" in text and "PROBLEM: xnli: no predictions" in text


def test_score_groups_come_from_the_catalogue_with_the_official_names():
    official = {  # the groups `score` has always used (XTREME's evaluate.py, plus LAReQA in XTREME-R)
        "xtreme": {"classification": {"pawsx", "xnli"}, "tagging": {"udpos", "panx"},
                   "qa": {"xquad", "mlqa", "tydiqa"}, "retrieval": {"bucc2018", "tatoeba"}},
        "xtreme-r": {"classification": {"xnli", "xcopa"}, "tagging": {"udpos", "panx"},
                     "qa": {"xquad", "mlqa", "tydiqa"}, "retrieval": {"mewslix", "lareqa", "tatoeba"}},
    }  # fmt: skip
    for benchmark, groups in official.items():
        derived = benchmark_groups(benchmark)
        assert list(derived) == ["classification", "tagging", "qa", "retrieval"]
        assert {group: set(tasks) for group, tasks in derived.items()} == groups
    assert benchmark_groups("xtreme")["qa"] == ("xquad", "mlqa", "tydiqa")


def test_xtreme_r_retrieval_group_of_three_tasks(tmp_path):
    labels, predictions = tmp_path / "labels", tmp_path / "predictions"
    gold = {"tatoeba": "0\n1\n2\n3\n", "mewslix": json.dumps({"m1": ["Q1"], "m2": ["Q2"]}),
            "lareqa": json.dumps({"q1": ["a", "b"]})}  # fmt: skip
    predicted = {
        "tatoeba": "0\n1\n0\n0\n",  # 2 of 4
        "mewslix": json.dumps({"m1": ["Q1"], "m2": ["Q9"]}),  # reciprocal ranks 1 and 0
        "lareqa": json.dumps({"q1": ["b", "a"]}),  # both relevant first: AP 1
    }
    for folder, files in ((labels, gold), (predictions, predicted)):  # every language: a task averages all of its
        for task, text in files.items():
            extension = "tsv" if task == "tatoeba" else "json"
            write_files(
                folder, {f"{task}/test-{lang}.{extension}": text for lang in benchmark_languages(task, "xtreme-r")}
            )
    report = score_submission(predictions, labels, "xtreme-r")
    assert report.problems == []
    metrics = {task: scores["avg_metric"] for task, scores in report.detailed.items()}
    assert metrics == {"tatoeba": 50.0, "mewslix": 50.0, "lareqa": 100.0}
    assert report.overall == {"retrieval": 66.66666666666667}  # (50 + 50 + 100) / 3


def test_problems_are_reported_never_scored_as_zero(submission, tmp_path, capsys):
    predictions = tmp_path / "predictions"
    for task in ("panx", "xnli", "xquad"):
        (predictions / task).mkdir(parents=True)
    (predictions / "panx" / "test-sw.tsv").write_text("O\n\n")  # one sentence, the gold has 1000
    (predictions / "xquad" / "test-de.json").write_text('{"broken": ')
    (predictions / "mystery").mkdir()
    report = score_submission(predictions, submission / "labels", "xtreme")
    text = "\n".join(report.problems)
    assert "panx/sw not scored" in text and "1 items" in text
    assert "xnli/de not scored: missing prediction file" in text
    assert "xquad/de not scored" in text and "invalid JSON" in text
    assert "unknown task folder" in text and "mystery" in text
    assert report.detailed == {} and report.overall == {}
    with pytest.raises(SystemExit) as exit_info:
        score_command(predictions=predictions, labels=submission / "labels", output=tmp_path / "scores.json")
    assert exit_info.value.code == 2
    assert json.loads((tmp_path / "scores.json").read_text())["problems"]
    assert "PROBLEM: " in capsys.readouterr().out


def test_bucc_duplicate_pairs_count_once():
    predicted = {"pairs": {("d1", "e1"), ("d2", "e9")}}
    gold = {"pairs": {("d1", "e1"), ("d2", "e2")}}
    assert bucc_scores(predicted, gold) == {"f1": 50.0, "precision": 50.0, "recall": 50.0}
    from lightning_xfer.submission.formats import PairLines

    assert len(PairLines()._pairs_from_text("d1\te1\nd1\te1\n")) == 1


def test_mewslix_mrr_at_20():
    predictions = {"m1": ["Q1", "Q2"], "m2": ["Q5", "Q3"], "m3": [f"Q{i}" for i in range(30)]}
    references = {"m1": "Q1", "m2": "Q3", "m3": "Q25"}  # rank 1, rank 2, beyond 20
    assert reciprocal_rank_at_20(predictions, references)["map@20"] == 50.0


def test_lareqa_map_at_20():
    # relevant {a, b}: hits at ranks 1 and 3 -> (1/1 + 2/3) / 2 = 0.8333333333333333
    assert average_precision_at_20({"q": ["a", "x", "b"]}, {"q": ["a", "b"]})["map@20"] == 83.33333333333333
    assert average_precision_at_20({"q": ["a", "a", "b"]}, {"q": ["a", "b"]})["map@20"] == 83.33333333333333
