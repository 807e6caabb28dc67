"""lightning_xfer.wandb_tables: the per-language score table and the study's labels on a W&B run.

The quick start trains and tests in one W&B run (offline), with the callback added on the command
line the way a study runner would; the tests read what W&B wrote to disk.
"""

from __future__ import annotations

import json

import pytest
from helpers import finished_run_file, quickstart, results, wandb_history_keys, wandb_records

from lightning_xfer.wandb_tables import COLUMNS

LANGUAGES = {"en", "xa", "xb", "xc"}
LABELS = {"study": "s1", "phase": "target", "run_id": "none-synthetic-topic-0"}
TAGS = {"encoder": "tiny", "condition": "none", "target": "synthetic-topic", "seed": "0"}


@pytest.fixture(scope="module")
def wandb_run(tmp_path_factory):
    import wandb

    root = tmp_path_factory.mktemp("wandb")
    run = quickstart(
        "fit",
        root,
        "--trainer.max_epochs=1",
        "--trainer.limit_train_batches=8",
        "--trainer.log_every_n_steps=4",
        "--trainer.val_check_interval=4",  # two validations: a best and a last `val/score`
        "--trainer.logger=pytorch_lightning.loggers.WandbLogger",
        "--trainer.logger.init_args.project=t",
        f"--trainer.logger.init_args.save_dir={root}",
        "--trainer.callbacks+=lightning_xfer.wandb_tables.WandbScoreTable",
        *(f"--trainer.callbacks.{name}={value}" for name, value in {**LABELS, **TAGS}.items()),
    )
    run.trainer.test(run.model, datamodule=run.datamodule, ckpt_path="best")
    wandb.finish()  # a command-line run finishes at exit; in-process we flush it ourselves
    run_directory = next(root.glob("wandb/offline-run-*"))
    finished_run_file(run_directory)
    return run_directory, root


def test_table_holds_every_languages_test_scores(wandb_run):
    run_directory, root = wandb_run
    (table_file,) = run_directory.glob("files/media/table/test/scores_*.table.json")
    table = json.loads(table_file.read_text())
    assert table["columns"] == COLUMNS
    rows = [dict(zip(COLUMNS, row, strict=True)) for row in table["data"]]
    assert {row["language"] for row in rows} == LANGUAGES
    assert {(row["task"], row["metric"], row["examples"]) for row in rows} == {("synthetic-topic", "accuracy", 300)}
    # The same numbers the run's results.jsonl holds for `test`.
    (results_file,) = root.glob("t/*/results.jsonl")
    written = {r["language"]: r["value"] for r in results(results_file) if r["stage"] == "test"}
    assert {row["language"]: row["value"] for row in rows} == pytest.approx(written)


def test_history_has_every_languages_test_key_and_the_table(wandb_run):
    run_directory, _ = wandb_run
    keys = wandb_history_keys(next(run_directory.glob("run-*.wandb")))
    assert {f"test/synthetic-topic/accuracy/{language}" for language in LANGUAGES} <= keys
    # A table is a history value whose fields W&B stores under nested keys (`_type`, `path`, ...).
    assert "test/scores/_type" in keys


def test_run_carries_the_studys_group_job_type_name_and_tags(wandb_run):
    run_directory, _ = wandb_run
    records = wandb_records(next(run_directory.glob("run-*.wandb")))
    latest = [r.run for r in records if r.WhichOneof("record_type") == "run"][-1]
    assert latest.run_group == LABELS["study"]
    assert latest.job_type == LABELS["phase"]
    assert latest.display_name == LABELS["run_id"]
    assert {f"{name}:{value}" for name, value in TAGS.items()} <= set(latest.tags)


def test_the_summary_holds_the_best_validation_score_not_the_last(wandb_run):
    """The run's checkpoints are kept by `val/score` (mode max), so its W&B summary (what the runs
    table and a sweep's table show) is the best `val/score` of the run, not its last. (The tiny
    run's two scores may be equal; before, the summary was the bare last value and no metric was
    defined.)"""
    run_directory, _ = wandb_run
    records = wandb_records(next(run_directory.glob("run-*.wandb")))
    defined = {r.metric.name: r.metric for r in records if r.WhichOneof("record_type") == "metric" and r.metric.name}
    assert defined["val/score"].summary.max and not defined["val/score"].summary.last

    def key(item) -> str:
        return item.key or "/".join(item.nested_key)

    scores = [json.loads(item.value_json) for r in records if r.WhichOneof("record_type") == "history"
              for item in r.history.item if key(item) == "val/score"]  # fmt: skip
    summaries = [json.loads(item.value_json) for r in records if r.WhichOneof("record_type") == "summary"
                 for item in r.summary.update if key(item) == "val/score"]  # fmt: skip
    assert len(scores) == 2 and summaries[-1] == {"max": max(scores)}  # without it: the last score, bare


def test_without_a_wandb_logger_the_callback_does_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # W&B would write ./wandb
    run = quickstart(
        "fit",
        tmp_path,
        "--trainer.max_epochs=1",
        "--trainer.limit_train_batches=2",
        "--trainer.limit_val_batches=1",
        "--trainer.limit_test_batches=1",
        "--trainer.log_every_n_steps=1",
        "--export.enabled=false",
        "--trainer.callbacks+=lightning_xfer.wandb_tables.WandbScoreTable",
        "--trainer.callbacks.study=s1",
    )
    run.trainer.test(run.model, datamodule=run.datamodule, ckpt_path="last")
    assert run.model.latest_scores  # there was something to log
    assert not list(tmp_path.glob("**/wandb"))
