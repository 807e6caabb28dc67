"""The embedded study (configs/studies/embedded.yaml) in a smoke version: the same study file with
short phases and a selection of its runs, from MLM pre-training to the report; the pre-trained
encoder shows the planted resource effect, and every world task is learnable in English."""

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from conftest import PROJECT
from helpers import cli, results

from lightning_xfer.errors import UserError
from lightning_xfer.report import findings_text, write_report
from lightning_xfer.results_table import COLUMNS
from lightning_xfer.study.graph import expand
from lightning_xfer.study.local import run_local
from lightning_xfer.study.spec import load_study
from lightning_xfer.study.table import results_table

EMBEDDED = PROJECT / "configs" / "studies" / "embedded.yaml"
SMOKE = {"pretrain_steps": "400", "steps": "30", "eval": "40", "seeds": "[0]"}
SELECTED = ("pretrain.", "intermediate.world-tiny.world-planted.", "none.world-ner.", "world-planted.world-ner.",
            "none.world-retrieval.", "world-planted.world-retrieval.")  # fmt: skip


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """Pre-training, one intermediate condition, one trained and one zero-shot target (6 runs)."""
    out = tmp_path_factory.mktemp("embedded")
    spec = load_study(EMBEDDED, {**SMOKE, "out": str(out)})
    every = expand(spec)
    runs = [run for run in every if any(text in run.id for text in SELECTED)]
    cwd = os.getcwd()
    os.chdir(PROJECT)
    try:
        outcome = run_local(runs, PROJECT, in_process=True, others=[r for r in every if r not in runs])
    finally:
        os.chdir(cwd)
    return spec, runs, outcome


def test_the_smoke_study_completes_from_pretraining_to_zero_shot_tests(smoke):
    spec, runs, outcome = smoke
    assert len(runs) == 6 and set(outcome.values()) == {"done"}, outcome
    table = results_table(spec.study, runs)
    assert list(table.columns) == COLUMNS
    assert set(table["phase"]) == {"pretrain", "target", "zero-shot"}  # intermediate runs test nothing
    tested = table[(table["stage"] == "test") & (table["task"] == "world-ner")]
    assert set(tested["language"]) == {"en", "qa", "qb", "qc", "qd", "qe", "qf", "qg", "qh", "qi"}
    assert (tested["examples"] == 40).all()


def test_the_pretrained_encoder_shows_the_planted_resource_effect(smoke):
    """Masked-token accuracy on equal held-out text: the high tier (as much text as English) well above
    the low tier (the same three languages with a twentieth of the text)."""
    spec, runs, _ = smoke
    table = results_table(spec.study, runs)
    accuracy = table[table["phase"] == "pretrain"].set_index("language")["value"]
    high, low = accuracy[["qa", "qb", "qc"]], accuracy[["qf", "qg", "qh"]]
    assert high.mean() > low.mean() + 5, accuracy.to_dict()
    assert all(h > low_twin for h, low_twin in zip(high, low, strict=True)), accuracy.to_dict()


def test_the_report_renders_with_pretraining_and_the_worlds_factors(smoke, tmp_path):
    spec, runs, _ = smoke
    markdown, page = write_report(results_table(spec.study, runs), tmp_path, runs_root=spec.out, n_boot=200)
    text = markdown.read_text()
    assert page.exists() and "## Pre-training (phase 1)" in text and "## The embedded world" in text
    findings = findings_text(text)
    assert findings.startswith("## Findings") and "masked-token accuracy after pre-training" in findings
    factors = pd.read_csv(tmp_path / "world_factors.csv")
    assert list(factors["language"]) == ["qa", "qb", "qc", "qd", "qe", "qf", "qg", "qh", "qi"]
    assert {"gap_none", "gain_world-planted", "shared_words", "tier"} <= set(factors.columns)


# Task (the target twin of each intermediate task: it trains on that task's English data and tests
# English too), metric, chance level, and the margin a trained tiny model must beat it by.
LEARNABLE = [
    pytest.param("world-xnli", "accuracy", 100 / 3, 15, 150, id="world-xnli"),
    pytest.param("world-xqa", "f1", 10, 15, 150, id="world-xqa"),
    # chance for ~200 steps, then it climbs (82% at 400 here); 32 s, in no study: with the slow checks
    pytest.param("world-xchoice", "accuracy", 25, 15, 400, marks=pytest.mark.slow, id="world-xchoice"),
    pytest.param("world-ner", "f1", 0, 60, 150, id="world-ner"),
    pytest.param("world-pos", "f1", 0, 60, 150, id="world-pos"),
]


@pytest.mark.parametrize(("task", "metric", "chance", "margin", "steps"), LEARNABLE)
def test_every_world_task_is_learnable_in_english(smoke, tmp_path, task, metric, chance, margin, steps):
    """A few hundred steps from the smoke study's pre-trained encoder, tested on 100 English examples."""
    _, runs, _ = smoke
    encoder = next(r for r in runs if r.phase == "pretrain").directory / "encoder"
    tasks = json.dumps([{"name": task, "languages": ["en"], "validation_languages": [], "max_eval_examples": 100}])
    common = ["--config", str(PROJECT / "configs/studies/embedded/world.yaml"), f"--model.encoder.name={encoder}",
              f"--data.tasks={tasks}", "--trainer.logger=false", f"--trainer.default_root_dir={tmp_path}",
              "--trainer.enable_progress_bar=false", f"--results.path={tmp_path / 'results.jsonl'}"]  # fmt: skip
    checkpoint = [
        "--trainer.callbacks+=pytorch_lightning.callbacks.ModelCheckpoint",
        "--trainer.callbacks.save_last=true",
    ]
    cli(
        "fit", *common, *checkpoint, f"--trainer.max_steps={steps}", "--trainer.max_epochs=-1", "--export.enabled=false"
    )
    cli("test", *common, f"--ckpt_path={next(tmp_path.rglob('last.ckpt'))}")
    (score,) = [
        r["value"] for r in results(tmp_path / "results.jsonl") if r["stage"] == "test" and r["metric"] == metric
    ]
    assert score > chance + margin, f"{task}: English {metric} {score:.1f}, chance {chance:.1f}"


def test_the_pretrain_run_comes_first_and_starts_every_other_run_of_its_encoder(tmp_path):
    from lightning_xfer.study.slurm import phases

    runs = expand(load_study(EMBEDDED, {"out": str(tmp_path)}))
    pretrain = runs[0]
    assert pretrain.id == "pretrain.world-tiny.s0" and pretrain.phase == "pretrain" and not pretrain.depends_on
    assert [c[0] for c in pretrain.commands] == ["fit", "test"]  # test: masked-token accuracy per language
    assert f"--export.dirpath={pretrain.directory / 'encoder'}" in pretrain.commands[0]
    for run in runs[1:]:
        start = [a for a in run.commands[0] if a.startswith("--model.encoder.name=")][-1]
        if run.phase == "intermediate" or run.intermediate == "none":
            assert run.depends_on == (pretrain.id,) and start == f"--model.encoder.name={pretrain.directory}/encoder"
        else:
            assert run.depends_on == (f"intermediate.world-tiny.{run.intermediate}.s{run.seed}",)
    levels = phases(runs)  # SLURM job arrays: pretrain, then intermediate and none targets, then the rest
    assert [len(level) for level in levels] == [1, 5 * (2 + 4), 5 * 2 * 4]  # 5 seeds, 4 targets
    assert levels[0] == [pretrain]


def test_pretrain_settings_are_checked_with_the_rest_of_the_study(tmp_path):
    study = tmp_path / "study.yaml"
    study.write_text(
        "study: s\nencoders:\n  - {name: world-tiny, args: [--model.encoder.name=world-tiny], pretrain: missing.yaml,"
        " pretrain_seed: x, pretraining: 1}\ntargets: [xnli]\nsteps: {pretraining: 10}\n"
    )
    with pytest.raises(UserError) as error:
        expand(load_study(study))
    message = str(error.value)
    assert "world-tiny: pretrain_seed:` expected a whole number, got 'x'" in message
    assert "world-tiny: pretraining: unknown key" in message
    assert "steps.pretraining: expected `pretrain`, `intermediate` or `target`" in message


def test_a_changed_upstream_run_makes_every_run_after_it_stale(tmp_path):
    """Another pre-training changes every run's hash (each starts from its encoder, directly or through
    an intermediate run); other target steps change only the target runs."""
    base = {r.id: r.config_hash for r in expand(load_study(EMBEDDED, {"out": str(tmp_path)}))}
    pretrained = {r.id: r.config_hash for r in expand(load_study(EMBEDDED, {"out": str(tmp_path),
                                                                             "pretrain_steps": "10"}))}  # fmt: skip
    assert all(pretrained[key] != base[key] for key in base)
    spec = load_study(EMBEDDED, {"out": str(tmp_path)})
    spec.steps["target"] = 10
    changed = {r.id for r in expand(spec) if r.config_hash != base[r.id]}
    assert changed == {key for key in base if key.startswith("target.")}


def test_a_new_version_of_the_world_makes_every_run_of_a_world_study_stale_and_no_other(tmp_path, monkeypatch):
    """A run's hash covers the fingerprint of the generated data it names: a changed world must not
    leave runs `done` on the old one (the next `study run` would mix two worlds in one table)."""
    import lightning_xfer.synthetic.world as world

    monkeypatch.chdir(PROJECT)
    tiny = PROJECT / "configs" / "studies" / "tiny.yaml"

    def hashes(study: Path) -> dict[str, str]:
        return {run.id: run.config_hash for run in expand(load_study(study, {"out": str(tmp_path / study.stem)}))}

    before, other = hashes(EMBEDDED), hashes(tiny)
    monkeypatch.setattr(world, "WORLD_VERSION", world.WORLD_VERSION + 1)
    after = hashes(EMBEDDED)
    assert before.keys() == after.keys() and all(before[run] != after[run] for run in before)
    assert hashes(tiny) == other  # generated without a fingerprint (the synthetic topic task): unchanged
