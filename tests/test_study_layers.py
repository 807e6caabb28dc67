"""A study layers its changes on a task's config instead of copying it: a `targets:`/`tasks:` entry
may be a mapping (`config`, `task`), and `defaults:` sets `task` fields once per phase."""

import pytest
import yaml
from conftest import PROJECT

from lightning_xfer.effective_config import effective_config
from lightning_xfer.errors import UserError
from lightning_xfer.study.graph import expand
from lightning_xfer.study.spec import load_study

STUDY = """study: layered
out: {out}
encoders: [tiny]
intermediate: [none, sst2]
defaults:
  intermediate:
    task: {{max_train_examples: 64}}
  target:
    task: {{validation_languages: [], max_eval_examples: 50}}
targets:
  panx: {{}}
  xnli: {{task: {{max_eval_examples: 10}}, set: {{model.learning_rate: 3.0e-4, trainer.max_epochs: 1}}}}
  synthetic-topic: {{config: configs/quickstart.yaml}}
"""


def configs_path(command) -> str:
    """The last config file a command names."""
    return [command[i + 1] for i, part in enumerate(command) if part == "--config"][-1]


def configs_of(run) -> list[dict]:
    """The documents of the config files a run's first command names, in order."""
    command = run.commands[0]
    return [yaml.safe_load(open(command[i + 1])) for i, part in enumerate(command) if part == "--config"]


def test_entries_layer_the_phase_defaults_and_their_own_fields_on_the_task_config(tmp_path, monkeypatch):
    monkeypatch.chdir(PROJECT)
    (tmp_path / "study.yaml").write_text(STUDY.format(out=tmp_path / "out"))
    runs = {run.id: run for run in expand(load_study(tmp_path / "study.yaml"))}
    panx = configs_of(runs["target.tiny.none.panx.s0"])[-1]
    task_file = yaml.safe_load((PROJECT / "configs" / "tasks" / "panx.yaml").read_text())
    assert panx["model"] == task_file["model"] and panx["trainer"] == task_file["trainer"]  # the task's own settings
    assert panx["data"]["tasks"] == [{"name": "panx", "validation_languages": [], "max_eval_examples": 50}]
    xnli_config = configs_of(runs["target.tiny.sst2.xnli.s0"])[-1]
    xnli = xnli_config["data"]["tasks"][0]
    assert xnli["max_eval_examples"] == 10 and xnli["validation_languages"] == []  # the entry over the defaults
    xnli_file = yaml.safe_load((PROJECT / "configs" / "tasks" / "xnli.yaml").read_text())
    assert xnli_config["model"] == xnli_file["model"]  # the task file as it is; `set` comes after every config,
    fit = runs["target.tiny.sst2.xnli.s0"].commands[0]  # as arguments, by dotted key
    after = fit.index(configs_path(fit)) + 1
    assert fit[after : after + 2] == ("--model.learning_rate=0.0003", "--trainer.max_epochs=1")
    effective = effective_config(fit, PROJECT)["config"]
    assert effective["model"]["learning_rate"] == 3.0e-4 and effective["trainer"]["max_epochs"] == 1
    topic = configs_of(runs["target.tiny.none.synthetic-topic.s0"])[-1]["data"]["tasks"][0]
    assert topic["name"] == "synthetic-topic" and topic["max_eval_examples"] == 50  # another base file
    sst2 = configs_of(runs["intermediate.tiny.sst2.s0"])[-1]["data"]["tasks"][0]
    assert sst2["name"] == "sst2" and sst2["max_train_examples"] == 64  # the intermediate phase's defaults
    assert "validation_languages" in sst2  # kept from configs/tasks/sst2.yaml


def test_a_misspelled_layer_is_named_with_the_rest_of_the_studys_problems(tmp_path, monkeypatch):
    monkeypatch.chdir(PROJECT)
    bad = STUDY.replace("  panx: {{}}", "  panx: {{tsk: {{max_eval_examples: 5}}}}").replace("  target:", "  targets:")
    (tmp_path / "study.yaml").write_text(bad.format(out=tmp_path / "out"))
    with pytest.raises(UserError) as error:
        expand(load_study(tmp_path / "study.yaml"))
    assert "targets.panx.tsk: unknown key; known: config, set, task" in str(error.value)
    assert "defaults.targets: expected `intermediate` or `target`" in str(error.value)
