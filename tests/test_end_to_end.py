"""`fit` then `test` on the tiny preset with generated data, through the real CLI."""

import json

import pytest
import torch
from helpers import finished_run_file, quickstart, results, wandb_history_keys

from lightning_xfer.encoder.spec import EncoderSpec
from lightning_xfer.model import XferModule
from lightning_xfer.tasks import get_task, phase_of, resolve_tasks
from lightning_xfer.tasks.config import TaskConfig


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("quickstart")
    quickstart("fit", root, "--trainer.max_epochs=2")
    run = next(root.glob("lightning_logs/version_*"))
    return root, run


def test_fit_writes_config_checkpoints_results_and_encoder(trained):
    _, run = trained
    assert (run / "config.yaml").exists()
    assert (run / "checkpoints" / "last.ckpt").exists()
    assert (run / "encoder" / "config.json").exists() and (run / "encoder" / "tokenizer.json").exists()
    rows = results(run / "results.jsonl")
    assert {r["stage"] for r in rows} == {"val"}
    assert {r["language"] for r in rows} == {"en"}  # the quick start validates on English only
    assert {"encoder", "seed", "phase", "git_commit", "epoch", "global_step"} <= set(rows[0])
    assert rows[0]["encoder"] == "tiny" and rows[0]["seed"] == 0
    assert rows[0]["phase"] == "target"  # no --results.phase: what the task declares (`phase_of`)


def test_a_run_without_a_phase_takes_the_one_its_tasks_declare():
    """Task configs no longer restate it under `results.phase`: the catalogue's role and whether the
    task trains say it (a study passes its own)."""
    phases = {names: phase_of([get_task(name) for name in names.split("+")])
              for names in ("tatoeba", "bucc2018", "squad", "squad+mnli", "panx", "squad+panx")}  # fmt: skip
    assert phases == {"tatoeba": "zero-shot", "bucc2018": "zero-shot", "squad": "intermediate",
                      "squad+mnli": "intermediate", "panx": "target", "squad+panx": "target"}  # fmt: skip


def test_test_scores_every_language_into_the_runs_results(trained, capsys):
    root, run = trained
    capsys.readouterr()
    quickstart("test", root, "--ckpt_path=last")
    printed = capsys.readouterr().out
    rows = [r for r in results(run / "results.jsonl") if r["stage"] == "test"]
    scores = {r["language"]: r["value"] for r in rows if r["metric"] == "accuracy"}
    assert set(scores) == {"en", "xa", "xb", "xc"}
    assert all(r["examples"] == 300 for r in rows)
    # Training worked: English is far above the 25% of chance, and transfer falls with word overlap.
    assert scores["en"] > 90
    assert scores["xa"] > scores["xc"]
    assert "test / synthetic-topic" in printed and "xa" in printed


def test_exported_encoder_starts_a_new_run_with_fresh_heads(trained):
    """The intermediate -> target hand-off: same encoder tensors, newly initialised heads."""
    _, run = trained
    exported_from = json.loads((run / "encoder" / "lightning_xfer_export.json").read_text())["checkpoint"]
    assert exported_from and "checkpoints" in exported_from  # the best checkpoint by validation
    trained_state = torch.load(exported_from, weights_only=True)["state_dict"]
    tasks = [TaskConfig("synthetic-topic")]
    for module in (
        XferModule(EncoderSpec(name=str(run / "encoder")), resolve_tasks(tasks)),
        XferModule(EncoderSpec(name="tiny"), resolve_tasks(tasks), init_encoder_from=exported_from),
    ):
        module.configure_model()
        state = module.state_dict()
        encoder_keys = [k for k in trained_state if k.startswith("encoder.")]
        assert encoder_keys and all(torch.equal(state[k], trained_state[k]) for k in encoder_keys)
        head_keys = [k for k in trained_state if k.startswith("heads.")]
        assert head_keys and all(not torch.equal(state[k], trained_state[k]) for k in head_keys)
    # ...and the pretrained starting point really differs from the trained encoder.
    fresh = XferModule(EncoderSpec(name="tiny"), resolve_tasks(tasks))
    fresh.configure_model()
    key = "encoder.encoder.layer.0.attention.self.query.weight"
    assert not torch.equal(fresh.state_dict()[key], trained_state[key])


def test_wandb_offline_run_logs_every_language(tmp_path):
    quickstart(
        "fit",
        tmp_path,
        "--trainer.max_epochs=1",
        '--data.tasks=[{"name": "synthetic-topic", "validation_languages": null}]',
        "--trainer.logger=pytorch_lightning.loggers.WandbLogger",
        f"--trainer.logger.init_args.save_dir={tmp_path}",
        "--trainer.logger.init_args.offline=true",
        "--trainer.logger.init_args.project=lightning-xfer-test",
    )
    import wandb

    wandb.finish()  # a command-line run finishes at exit; in-process we flush it ourselves
    run_file = finished_run_file(next(tmp_path.glob("wandb/offline-run-*")))
    keys = wandb_history_keys(run_file)
    for language in ("en", "xa", "xb", "xc", "avg"):
        assert f"val/synthetic-topic/accuracy/{language}" in keys
    assert "train/synthetic-topic/loss" in keys
    # Results and the exported encoder go to the W&B run's own directory, not a shared root.
    assert len(list(tmp_path.glob("lightning-xfer-test/*/results.jsonl"))) == 1


def test_tasks_train_together_on_one_encoder(tmp_path):
    """Two tasks of different families in one run: both losses logged, both heads get gradients."""
    from helpers import cli

    tasks = '[{"name": "synthetic-topic", "validation_languages": []}, {"name": "synthetic-mlm"}]'
    run = cli(
        "fit",
        "--seed_everything=0",
        "--model.encoder.name=tiny",
        "--trainer.max_steps=3",
        "--trainer.log_every_n_steps=1",
        "--trainer.enable_progress_bar=false",
        f"--trainer.default_root_dir={tmp_path}",
        "--trainer.logger=CSVLogger",
        f"--trainer.logger.init_args.save_dir={tmp_path}",
        f"--data.tasks={tasks}",
    )
    assert set(run.model.heads) == {"synthetic-topic", "synthetic-mlm"}
    header = next(tmp_path.glob("**/metrics.csv")).read_text().splitlines()[0]
    assert "train/synthetic-topic/loss" in header and "train/synthetic-mlm/loss" in header
    batches = {}  # each step draws one task (the DataModule's task sampling): collect a batch of each
    for batch, _, _ in run.datamodule.train_dataloader():
        assert len(batch) == 1
        batches.update(batch)
        if len(batches) == 2:
            break
    assert set(batches) == {"synthetic-topic", "synthetic-mlm"}
    run.model.zero_grad()
    sum(run.model.forward_task(task, task_batch).loss for task, task_batch in batches.items()).backward()
    for task in ("synthetic-topic", "synthetic-mlm"):
        grads = [p.grad for p in run.model.heads[task].parameters() if p.requires_grad]
        assert grads and all(g is not None and g.abs().sum() > 0 for g in grads), task
    # The results rows say how the tasks were mixed.
    run.trainer.test(run.model, datamodule=run.datamodule, verbose=False)
    rows = results(next(tmp_path.glob("**/results.jsonl")))
    assert rows and {row["task_sampling"] for row in rows} == {"proportional"}


def test_two_process_data_parallel_evaluation_scores_each_example_once(trained, tmp_path):
    """A real 2-process DDP run (gloo, CPU): per-language scores equal the single-process ones."""
    import os
    import subprocess
    import sys

    from conftest import PROJECT

    root, run = trained
    checkpoint = str(run / "checkpoints" / "last.ckpt")
    single = [r for r in results(run / "results.jsonl") if r["stage"] == "test"]
    if not single:
        quickstart("test", root, f"--ckpt_path={checkpoint}")
        single = [r for r in results(run / "results.jsonl") if r["stage"] == "test"]
    command = [
        sys.executable, "-m", "lightning_xfer", "test", "--config", str(PROJECT / "configs" / "quickstart.yaml"),
        f"--ckpt_path={checkpoint}", "--trainer.devices=2", "--trainer.strategy=ddp", "--trainer.logger=false",
        f"--trainer.default_root_dir={tmp_path}", "--trainer.enable_progress_bar=false",
        f"--results.path={tmp_path / 'ddp.jsonl'}",
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(PROJECT)})
    parallel = results(tmp_path / "ddp.jsonl")
    assert [(r["language"], r["value"], r["examples"]) for r in parallel] == [
        (r["language"], r["value"], r["examples"]) for r in single[-4:]
    ]
