"""Loaders of the English intermediate tasks: real dev files from ../shared/data/intermediate, and
small files in the original format for the datasets that could not be shared (MNLI, QQP, SQuAD
v2.0, CCG)."""

import json

import pytest
from conftest import shared

from lightning_xfer.data.sources import load_split
from lightning_xfer.errors import UserError
from lightning_xfer.tasks import expand_groups, get_task, resolve_task
from lightning_xfer.tasks.config import TaskConfig


def load(name, split="validation", **config):
    config = TaskConfig(name, **config)
    return load_split(resolve_task(config), config, split, "en").examples


def test_anli_rounds_one_to_three_together():
    examples = load("anli", data_dir=str(shared("intermediate", "anli")))
    assert len(examples) == 1000 + 1000 + 1200
    labels = [e["label"] for e in examples]
    assert (labels.count("entailment"), labels.count("neutral"), labels.count("contradiction")) == (
        1070,
        1068,
        1062,
    )  # 334/333/333 twice, then 402/402/396


def test_commonsenseqa_five_choices_and_answer_key():
    examples = load("commonsenseqa", data_dir=str(shared("intermediate", "commonsenseqa")))
    assert len(examples) == 1221
    assert all(len(e["choices"]) == 5 and 0 <= e["label"] < 5 for e in examples)
    train = load("commonsenseqa", "train", data_dir=str(shared("intermediate", "commonsenseqa")),
                 train_file="train_rand_split.first5000.jsonl")  # fmt: skip
    assert len(train) == 5000


def test_cosmosqa_csv():
    examples = load("cosmosqa", data_dir=str(shared("intermediate", "cosmosqa")))
    assert len(examples) == 2985
    assert all(len(e["choices"]) == 4 and e["label"] in range(4) for e in examples)


def test_sst2_glue_tsv():
    examples = load("sst2", data_dir=str(shared("intermediate", "sst2")))
    labels = [e["label"] for e in examples]
    assert (labels.count("1"), labels.count("0")) == (444, 428)


def test_hellaswag_sample_line_format():
    examples = load("hellaswag", data_dir=str(shared("intermediate", "hellaswag")),
                    files={"validation": "hellaswag_val.first2.jsonl"})  # fmt: skip
    assert [e["id"] for e in examples] == ["24", "92"]
    assert examples[0]["context"] == "A man is sitting on a roof." and len(examples[0]["choices"]) == 4


def test_squad_v11_dev_minus_xquad_leaves_9380_questions():
    examples = load(
        "squad", "train", data_dir=str(shared("intermediate", "squad")), train_file="dev-v1.1.json",
        exclude_train_ids_from=[str(shared("xquad", "xquad.en.json"))],
    )  # fmt: skip
    assert len(examples) == 9380


def test_mnli_glue_tsv_written_here(tmp_path):
    header = "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\t"
    header += "sentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label\n"
    row = "0\t1\t1e\tfiction\t( x )\t( y )\t(ROOT x)\t(ROOT y)\tThe cat sat.\tA cat sat.\tentailment\tentailment\n"
    (tmp_path / "dev_matched.tsv").write_text(
        header + row + row.replace("1e", "1c").replace("entailment", "contradiction")
    )
    examples = load("mnli", data_dir=str(tmp_path))
    assert [(e["text"], e["text_pair"], e["label"]) for e in examples] == [
        ("The cat sat.", "A cat sat.", "entailment"), ("The cat sat.", "A cat sat.", "contradiction"),
    ]  # fmt: skip


def test_qqp_glue_tsv_written_here(tmp_path):
    (tmp_path / "dev.tsv").write_text(
        "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"
        "201359\t303345\t303346\tWhy are African-Americans so beautiful?\tWhy are hispanics so beautiful?\t0\n"
    )
    assert load("qqp", data_dir=str(tmp_path))[0]["label"] == "0"


def test_squad_v2_unanswerable_questions_keep_empty_answers(tmp_path):
    qas = [
        {"id": "a", "question": "Who?", "answers": [{"text": "Ann", "answer_start": 0}], "is_impossible": False},
        {"id": "b", "question": "Why?", "answers": [], "plausible_answers": [{"text": "x", "answer_start": 0}],
         "is_impossible": True},
    ]  # fmt: skip
    data = {"version": "v2.0", "data": [{"title": "t", "paragraphs": [{"context": "Ann came.", "qas": qas}]}]}
    (tmp_path / "dev-v2.0.json").write_text(json.dumps(data))
    examples = load("squad2", data_dir=str(tmp_path))
    assert [e["answers"]["text"] for e in examples] == [["Ann"], []]
    assert get_task("squad2").metric({"a": "Ann", "b": ""}, {"a": ["Ann"], "b": []}, "en")["f1"] == 100.0


def test_ccg_jiant_layout_written_here(tmp_path):
    (tmp_path / "tags_to_id.json").write_text(json.dumps({"NP": 0, "(S\\NP)/NP": 1, ".": 2}))
    (tmp_path / "ccg_num.dev").write_text("John likes Mary .\t0 1 0 2\n")
    config = TaskConfig("ccg", data_dir=str(tmp_path))
    assert resolve_task(config).labels == ("NP", "(S\\NP)/NP", ".")
    assert load("ccg", data_dir=str(tmp_path))[0]["tags"] == ["NP", "(S\\NP)/NP", "NP", "."]


def test_ccg_without_files_explains_the_licence(tmp_path):
    with pytest.raises(UserError, match="LDC2005T13"):
        resolve_task(TaskConfig("ccg", data_dir=str(tmp_path)))


def test_all_nine_group():
    names = [c.name for c in expand_groups([TaskConfig("phang-all")])]
    assert names == ["anli", "ccg", "commonsenseqa", "cosmosqa", "hellaswag", "mnli", "qqp", "squad", "sst2"]
    with pytest.raises(UserError, match="list its tasks one by one"):
        expand_groups([TaskConfig("phang-all", data_dir="somewhere")])
