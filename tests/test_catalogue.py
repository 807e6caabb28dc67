"""The task catalogue: every task nameable and buildable, real files where ../shared has them,
generated files in the original formats where it does not."""

import json
import math

import pytest
import torch
from conftest import shared
from helpers import cli, results

from lightning_xfer.commands import tasks_command
from lightning_xfer.data.sources import load_split
from lightning_xfer.encoder.spec import EncoderSpec
from lightning_xfer.errors import UserError
from lightning_xfer.families.bitext_mining import best_threshold, mine
from lightning_xfer.languages import languages
from lightning_xfer.model import XferModule
from lightning_xfer.tasks import catalogue, get_task, resolve_task, resolve_tasks
from lightning_xfer.tasks.config import TaskConfig


def load(name, split="test", language="en", **config):
    config = TaskConfig(name, **config)
    return load_split(resolve_task(config), config, split, language).examples


def test_every_task_builds_its_head_on_a_shared_encoder(tmp_path):
    (tmp_path / "tags_to_id.json").write_text(json.dumps({"N": 0, "NP": 1}))  # CCG's labels ship with its data
    configs = [TaskConfig(name, data_dir=str(tmp_path) if name == "ccg" else None) for name in catalogue()]
    module = XferModule(EncoderSpec(name="tiny"), resolve_tasks(configs))
    module.configure_model()
    assert set(module.heads) == set(catalogue())
    assert module.heads["panx"].classifier.out_features == 7 and module.heads["udpos"].classifier.out_features == 17
    assert module.heads["tatoeba"].layer == 2  # XTREME's middle layer, capped at the last: min(2 // 2 + 2, 2)


def test_language_table_covers_every_task_language():
    table = languages()
    for task in catalogue().values():
        if task.name.startswith("synthetic") or task.name == "mlm":
            continue
        missing = set(task.languages) - set(table)
        assert not missing, f"{task.name}: {missing}"


def test_tasks_json_lists_the_catalogue(capsys):
    tasks_command(["--json"])
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert set(rows) == set(catalogue())
    assert rows["xnli"]["train_from"] == "mnli" and len(rows["panx"]["languages"]) == 48
    assert rows["xcopa"]["benchmarks"] == ["xtreme-r"] and rows["udpos"]["hub"] == "google/xtreme:udpos.{Language}"


def test_unknown_task_and_benchmark():
    with pytest.raises(UserError, match="did you mean 'tatoeba'"):
        get_task("tatoba")
    from lightning_xfer.data.datamodule import default_languages

    assert len(default_languages(get_task("panx"), TaskConfig("panx", benchmark="xtreme"))) == 40
    assert "wo" in default_languages(get_task("udpos"), TaskConfig("udpos", benchmark="xtreme-r"))
    with pytest.raises(UserError, match="not part of 'xtreme-r'"):
        default_languages(get_task("pawsx"), TaskConfig("pawsx", benchmark="xtreme-r"))


# --- real files --------------------------------------------------------------------------------
def test_xcopa_100_validation_and_500_test_questions_per_language():
    directory = str(shared("xcopa"))
    for language in get_task("xcopa").languages:
        assert len(load("xcopa", "validation", language, data_dir=directory)) == 100
        test = load("xcopa", "test", language, data_dir=directory)
        assert len(test) == 500 and all(len(e["choices"]) == 2 and e["label"] in (0, 1) for e in test)


# Tatoeba has 1,000 pairs per language where that many translations exist; these have fewer.
TATOEBA_SMALLER = {"jv": 205, "ka": 746, "kk": 575, "ml": 687, "sw": 390, "ta": 307, "te": 234, "th": 548}


def test_tatoeba_1000_pairs_per_language():
    for language in ("de", "zh", "ro", "kk", "jv"):
        examples = load("tatoeba", language=language, data_dir=str(shared("tatoeba")))
        expected = TATOEBA_SMALLER.get(language, 1000)
        assert sum(e["side"] == "source" for e in examples) == expected
        assert sum(e["side"] == "target" for e in examples) == expected


def test_xquad_r_pool_spans_every_language_in_the_folder():
    examples = load("lareqa", language="de", data_dir=str(shared("lareqa", "xquad-r")))
    questions = [e for e in examples if e["side"] == "source"]
    pool = [e for e in examples if e["side"] == "target"]
    assert len(questions) == 1190
    assert {e["id"].split("-")[0] for e in pool} == {"de", "en", "es", "zh"}
    # one relevant sentence per language of the pool, and every one of them is in the pool
    pool_ids = {e["id"] for e in pool}
    assert all(len(q["relevant"]) == 4 and set(q["relevant"]) <= pool_ids for q in questions)


def test_tiny_encoder_retrieval_on_real_tatoeba_scores_every_language(tmp_path):
    every = sorted(get_task("tatoeba").languages)
    tasks = [{"name": "tatoeba", "data_dir": str(shared("tatoeba")), "languages": every, "max_length": 128}]
    cli("test", "--model.encoder.name=tiny", f"--trainer.default_root_dir={tmp_path}", "--trainer.logger=false",
        "--trainer.enable_progress_bar=false", f"--data.tasks={json.dumps(tasks)}", "--data.eval_batch_size=256",
        "--results.path", str(tmp_path / "results.jsonl"))  # fmt: skip
    rows = [r for r in results(tmp_path / "results.jsonl") if r["metric"] == "accuracy"]
    assert sorted(r["language"] for r in rows) == every
    assert all(r["examples"] == TATOEBA_SMALLER.get(r["language"], 1000) for r in rows)


# --- generated files in the original formats -----------------------------------------------------
def test_bucc_mining_recovers_planted_pairs(tmp_path):
    """Sources whose translation is the same string embed identically, so mining must find them;
    the threshold learned on the dev gold keeps the unaligned distractors out."""
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]
    for split, offset in (("dev", 0), ("test", 100)):
        aligned = [
            f"{words[i % 10]} {words[(i * 3) % 10]} {words[(i * 7) % 10]} {i}" for i in range(offset, offset + 30)
        ]
        source = [(f"de-{split}-{i}", text) for i, text in enumerate(aligned)]
        source += [(f"de-{split}-x{i}", f"zzz qqq {i * 17}") for i in range(10)]
        target = [(f"en-{split}-{i}", text) for i, text in enumerate(aligned)]
        target += [(f"en-{split}-x{i}", f"kkk www {i * 31}") for i in range(10)]
        (tmp_path / f"de-en.{split}.de").write_text("".join(f"{i}\t{t}\n" for i, t in source))
        (tmp_path / f"de-en.{split}.en").write_text("".join(f"{i}\t{t}\n" for i, t in target))
        (tmp_path / f"de-en.{split}.gold").write_text("".join(f"de-{split}-{i}\ten-{split}-{i}\n" for i in range(30)))
    tasks = [{"name": "bucc2018", "data_dir": str(tmp_path), "languages": ["de"]}]
    cli("test", "--model.encoder.name=tiny", f"--trainer.default_root_dir={tmp_path}", "--trainer.logger=false",
        "--trainer.enable_progress_bar=false", f"--data.tasks={json.dumps(tasks)}",
        "--results.path", str(tmp_path / "results.jsonl"))  # fmt: skip
    f1 = next(r["value"] for r in results(tmp_path / "results.jsonl") if r["metric"] == "f1")
    assert f1 > 95


def test_margin_mining_and_threshold_on_known_vectors():
    torch.manual_seed(0)
    targets = torch.nn.functional.normalize(torch.randn(50, 16), dim=-1)
    sources = torch.nn.functional.normalize(targets[:40] + 0.05 * torch.randn(40, 16), dim=-1)
    matched = mine(sources, targets, k=4)
    assert sorted((s, t) for _, s, t in matched if s < 40)[:40] == [(i, i) for i in range(40)]
    candidates = [(3.0, "a", "1"), (2.0, "b", "2"), (1.0, "c", "9")]
    assert best_threshold(candidates, {("a", "1"), ("b", "2")}) == 1.5


def test_mewslix_generated_layout(tmp_path):
    entities = [{"entity_id": f"Q{i}", "title": name, "description": f"the {name}"}
                for i, name in enumerate(["river", "mountain", "city", "lake"])]  # fmt: skip
    (tmp_path / "candidate_set_entities.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entities))
    mentions = [{"mention_id": f"de-{i}", "entity_id": e["entity_id"], "mention": e["title"],
                 "context": f"Wir sahen den {e['title']}."} for i, e in enumerate(entities)]  # fmt: skip
    (tmp_path / "test-de.jsonl").write_text("".join(json.dumps(m) + "\n" for m in mentions))
    (tmp_path / "wikipedia_pairs-train.jsonl").write_text("".join(json.dumps(m) + "\n" for m in mentions))
    examples = load("mewslix", "test", "de", data_dir=str(tmp_path))
    assert [e["relevant"] for e in examples if e["side"] == "source"] == [["Q0"], ["Q1"], ["Q2"], ["Q3"]]
    train = load("mewslix", "train", data_dir=str(tmp_path))
    assert train[0]["query"].startswith("river") and train[0]["target"] == "river: the river"
    tasks = [{"name": "mewslix", "data_dir": str(tmp_path), "languages": ["de"], "validation_languages": []}]
    trained = cli("fit", "--model.encoder.name=tiny", f"--trainer.default_root_dir={tmp_path}",
                  "--trainer.logger=false", "--trainer.enable_progress_bar=false", "--trainer.max_steps=2",
                  "--data.batch_size=4", f"--data.tasks={json.dumps(tasks)}")  # fmt: skip
    # The dual encoder trained: two steps, a finite in-batch contrastive loss, a moved temperature.
    assert trained.trainer.global_step == 2
    loss = trained.trainer.callback_metrics["train/mewslix/loss"]
    assert torch.isfinite(loss) and loss > 0
    assert trained.model.heads["mewslix"].log_inverse_temperature.item() != pytest.approx(math.log(20))


def test_copa_and_siqa_generated_layouts(tmp_path):
    copa = {"premise": "The man broke his toe.", "choice1": "He dropped a hammer.", "choice2": "He sang.",
            "question": "cause", "label": 0, "idx": 7}  # fmt: skip
    (tmp_path / "val.jsonl").write_text(json.dumps(copa) + "\n")
    [example] = load("copa", "validation", data_dir=str(tmp_path))
    assert example["question"] == "What was the cause?" and example["choices"][0] == "He dropped a hammer."
    siqa = {"context": "Jan gave Sam a gift.", "question": "How would Sam feel?", "answerA": "happy",
            "answerB": "sad", "answerC": "bored"}  # fmt: skip
    (tmp_path / "dev.jsonl").write_text(json.dumps(siqa) + "\n")
    (tmp_path / "dev-labels.lst").write_text("1\n")
    [example] = load("siqa", "validation", data_dir=str(tmp_path))
    assert example["label"] == 0 and len(example["choices"]) == 3


def test_language_table_sizes_and_tiers():
    table = languages()
    assert table["en"].cc100_gib == 300.8 and table["en"].resource_tier == "high"
    assert table["sw"].resource_tier == "low" and table["ur"].resource_tier == "mid"
    unseen = {code for code, language in table.items() if not language.seen_by_xlmr}
    assert unseen == {"ht", "qu", "wo", "yo"}  # XTREME-R languages XLM-R never saw, and Yoruba
    assert all(table[code].resource_tier == "low" for code in unseen)
    xtreme = get_task("panx").benchmark_languages["xtreme"]
    assert all(table[code].wikipedia_articles_m for code in xtreme)  # XTREME's table lists its 40
