"""The task catalogue: every task nameable and buildable, real files where ../shared has them,
generated files in the original formats where it does not."""

import json
import math

import datasets
import pytest
import torch
from conftest import shared
from helpers import cli, results

from lightning_xfer.commands import tasks_command
from lightning_xfer.data.sources import load_split
from lightning_xfer.encoder.spec import EncoderSpec
from lightning_xfer.errors import DataFormatError, UserError
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
    tasks_command(json=True)
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


def entity(qid: str, title: str, description: str) -> dict:
    """An Entity record as candidate_set_entities.jsonl holds it (Mewsli-X's schema)."""
    first = description.index(".") + 1
    return {"entity_id": qid, "title": title, "description": description, "description_language": "en",
            "description_url": f"https://en.wikipedia.org/wiki/{title}",
            "sentence_spans": [{"start": 0, "end": first}, {"start": first + 1, "end": len(description)}]}  # fmt: skip


def contextual_mentions(language: str, text: str, mentions: list[tuple[str, str, str]]) -> dict:
    """A ContextualMentions record (wikinews_mentions/*.jsonl): one context, its mentions' spans."""
    sentences, start = [], 0
    while (stop := text.find(". ", start)) >= 0:
        sentences.append({"start": start, "end": stop + 1})
        start = stop + 2
    sentences.append({"start": start, "end": len(text)})
    return {
        "context": {"document_title": "News", "document_url": "https://wikinews.org/x", "document_id": "d1",
                    "language": language, "text": text, "sentence_spans": sentences},
        "mentions": [{"example_id": example_id, "entity_id": qid,
                      "mention_span": {"start": text.index(surface), "end": text.index(surface) + len(surface),
                                       "text": surface}} for example_id, surface, qid in mentions],
    }  # fmt: skip


def write_mewslix_release(root) -> None:
    """Mewsli-X as XTREME-R's download_data.sh and utils_preprocess.py leave it, test labels withheld."""
    entities = [entity("Q1", "Rhine", "The Rhine is a river. It flows into the North Sea."),
                entity("Q2", "Alps", "The Alps are mountains.  They lie in Europe."),
                entity("Q3", "Berlin", "Berlin is a city. It is the capital of Germany.")]  # fmt: skip
    (root / "candidate_set_entities.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entities))
    text = "Wir sahen den Rhein {heute}. Dann fuhren wir nach Berlin."
    dev = contextual_mentions("de", text, [("de-1", "Rhein", "Q1"), ("de-2", "Berlin", "Q3")])
    test = contextual_mentions("de", text, [("de-3", "Rhein", ""), ("de-4", "Berlin", "")])
    (root / "wikinews_mentions").mkdir()
    (root / "wikinews_labels").mkdir()
    for split, record in (("dev", dev), ("test", test)):
        (root / "wikinews_mentions" / f"{split}-de.jsonl").write_text(json.dumps(record) + "\n")
        labels = {m["example_id"]: [m["entity_id"]] for m in record["mentions"]}
        (root / "wikinews_labels" / f"{split}-de.json").write_text(json.dumps(labels))
    pairs = [{"contextual_mention": {"context": contextual_mentions("en", "We saw the Alps. They were high.",
                                                                   [])["context"],
                                     "mention": {"example_id": f"en-{i}", "entity_id": "Q2",
                                                 "mention_span": {"start": 11, "end": 15, "text": "Alps"}}},
              "entity": entities[1]} for i in range(4)]  # fmt: skip
    (root / "wikipedia_pairs-train.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pairs))


def test_mewslix_reads_the_release_layout_and_builds_texts_as_utils_mewslix(tmp_path):
    write_mewslix_release(tmp_path)
    examples = load("mewslix", "validation", "de", data_dir=str(tmp_path))
    queries = [e for e in examples if e["side"] == "source"]
    assert [e["relevant"] for e in queries] == [["Q1"], ["Q3"]]
    # preprocess_mention: the mention, ': ', its one sentence with the mention in braces (existing
    # braces become parentheses), then one pass of '  ' -> ' '.
    assert [e["text"] for e in queries] == [
        "Rhein: Wir sahen den { Rhein } (heute).",
        "Berlin: Dann fuhren wir nach { Berlin } .",
    ]
    # preprocess_entity_description: the description's sentences joined by a space, no title.
    candidates = {e["id"]: e["text"] for e in examples if e["side"] == "target"}
    assert candidates["Q2"] == "The Alps are mountains. They lie in Europe."
    train = load("mewslix", "train", data_dir=str(tmp_path))
    assert train[0]["query"] == "Alps: We saw the { Alps } ." and train[0]["target"] == candidates["Q2"]


def test_mewslix_test_labels_are_withheld_so_test_stops_and_predict_runs(tmp_path):
    write_mewslix_release(tmp_path)
    with pytest.raises(DataFormatError, match=r"de-3 has no gold entity.*predict"):
        load("mewslix", "test", "de", data_dir=str(tmp_path))
    config = TaskConfig("mewslix", data_dir=str(tmp_path))
    examples = load_split(resolve_task(config), config, "test", "de", labelled=False).examples
    assert [e["relevant"] for e in examples if e["side"] == "source"] == [[], []]
    assert get_task("mewslix").family.references(None, datasets.Dataset.from_list(examples)) == {}


def test_mewslix_dual_encoder_trains_on_the_release_pairs(tmp_path):
    write_mewslix_release(tmp_path)
    tasks = [{"name": "mewslix", "data_dir": str(tmp_path), "languages": ["de"], "validation_languages": []}]
    trained = cli("fit", "--model.encoder.name=tiny", f"--trainer.default_root_dir={tmp_path}",
                  "--trainer.logger=false", "--trainer.enable_progress_bar=false", "--trainer.max_steps=2",
                  "--data.batch_size=2", f"--data.tasks={json.dumps(tasks)}")  # fmt: skip
    # The dual encoder trained: two steps, a finite in-batch contrastive loss, a moved logit scale.
    assert trained.trainer.global_step == 2
    loss = trained.trainer.callback_metrics["train/mewslix/loss"]
    assert torch.isfinite(loss) and loss > 0
    assert trained.model.heads["mewslix"].log_inverse_temperature.item() != pytest.approx(math.log(100))


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
