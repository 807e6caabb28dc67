"""Loaders of the English intermediate tasks: real dev files from ../shared/data/intermediate, and
small files in the original format for the datasets that could not be shared (MNLI, QQP, SQuAD
v2.0, CCG)."""

import json
from pathlib import Path

import pytest
import yaml
from conftest import PROJECT, shared

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


def test_missing_exclusion_file_names_the_key(tmp_path):
    with pytest.raises(UserError, match=f"^exclude_train_ids_from: {tmp_path}/xquad.en.json does not exist; expected"):
        load("squad", "train", data_dir=str(shared("intermediate", "squad")), train_file="dev-v1.1.json",
             exclude_train_ids_from=[str(tmp_path / "xquad.en.json")])  # fmt: skip


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


def train_and_validation(name, seed=None, **config):
    """The training and English validation examples of one task config, as a run loads them."""
    config = TaskConfig(name, **config)
    task = resolve_task(config)
    return (
        load_split(task, config, "train", "en", seed=seed).examples,
        load_split(task, config, "validation", "en", seed=seed).examples,
    )


def test_squad_validation_holdout_takes_whole_paragraphs_out_of_training():
    train, validation = train_and_validation(
        "squad", data_dir=str(shared("intermediate", "squad")), train_file="dev-v1.1.json",
        exclude_train_ids_from=[str(shared("xquad", "xquad.en.json"))], validation_holdout=0.1,
    )  # fmt: skip
    assert not {e["id"] for e in train} & {e["id"] for e in validation}
    assert not {e["context"] for e in train} & {e["context"] for e in validation}
    assert len(train) + len(validation) == 9380  # nothing lost: every question is on one side
    paragraphs = len({e["context"] for e in train} | {e["context"] for e in validation})
    assert len({e["context"] for e in validation}) == round(0.1 * paragraphs)


def test_shared_data_configs_never_validate_on_their_training_data():
    """configs/shared_data/panx.yaml trains on PAN-X's English dev file, the only English split there."""
    for path in sorted((PROJECT / "configs" / "shared_data").glob("*.yaml")):
        for task in yaml.safe_load(path.read_text())["data"]["tasks"]:
            if "train_file" not in task:
                continue
            task["data_dir"] = str(PROJECT / task["data_dir"])
            shared(*Path(task["data_dir"]).parts[-1:])  # skip without ../shared
            if task.get("validation_languages") == []:
                continue
            train, validation = train_and_validation(**task)
            assert validation and not {e["id"] for e in train} & {e["id"] for e in validation}, path.name


def test_holdout_splits_alike_in_every_run():
    data_dir = str(shared("intermediate", "sst2"))
    first = train_and_validation("sst2", seed=1, data_dir=data_dir, train_file="train.first5000.tsv",
                                 validation_holdout=0.2)  # fmt: skip
    second = train_and_validation("sst2", seed=2, data_dir=data_dir, train_file="train.first5000.tsv",
                                  validation_holdout=0.2)  # fmt: skip
    assert [e["id"] for e in first[1]] == [e["id"] for e in second[1]] and len(first[1]) == 1000
    assert not {e["line"] for e in first[0]} & {e["line"] for e in first[1]}


@pytest.mark.parametrize("share", [0, 1, -0.5, 2])
def test_validation_holdout_must_be_a_share(share):
    with pytest.raises(UserError, match=f"validation_holdout is {share}; expected a share of the training file"):
        load("sst2", data_dir=str(shared("intermediate", "sst2")), validation_holdout=share)


def test_validation_holdout_that_leaves_nothing_names_the_file(tmp_path):
    (tmp_path / "train.tsv").write_text("sentence\tlabel\ngood film\t1\n")
    with pytest.raises(UserError, match=r"validation_holdout 0.5 of 1 examples in .*train.tsv leaves nothing"):
        load("sst2", "train", data_dir=str(tmp_path), validation_holdout=0.5)


def test_validation_holdout_needs_examples_that_validate_as_they_are():
    with pytest.raises(UserError, match="task lareqa: validation_holdout needs a training file"):
        load("lareqa", "test", validation_holdout=0.1)


def test_the_runs_seed_draws_the_training_sample_unless_sample_seed_pins_it():
    data_dir = str(shared("intermediate", "sst2"))

    def sample(seed, **config):
        train, _ = train_and_validation("sst2", seed=seed, data_dir=data_dir, train_file="train.first5000.tsv",
                                        max_train_examples=100, validation_holdout=0.1, **config)  # fmt: skip
        return [e["line"] for e in train]

    assert len(sample(1)) == 100 and sample(1) == sample(1)
    assert sample(1) != sample(2)
    assert sample(None) == sample(0)  # no seed given: the sample seed is 0, as before seeds were passed
    assert sample(1, sample_seed=7) == sample(2, sample_seed=7) == sample(None, sample_seed=7)
