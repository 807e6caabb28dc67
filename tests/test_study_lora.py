"""A study whose encoder trains LoRA in both phases with the intermediate adapter stacked under the
target's: the commands carry the switch, the runs hand the adapter on, the table records `tuning`."""

from __future__ import annotations

import os

import pytest
import yaml
from conftest import PROJECT

from lightning_xfer.effective_config import effective_config
from lightning_xfer.errors import UserError
from lightning_xfer.study.graph import expand
from lightning_xfer.study.local import run_local
from lightning_xfer.study.spec import load_study
from lightning_xfer.study.table import results_table

pytest.importorskip("peft", reason="needs the `peft` extra")


def _study(tmp_path, **encoder):
    document = {
        "study": "lora", "out": str(tmp_path / "out"),
        "encoders": [{"name": "tiny-bloom-lora", "args": ["--model.encoder.name=tiny-bloom",
                                                           "--model.encoder.lora_rank=4"], **encoder}],
        "intermediate": ["synthetic-mlm"], "targets": ["synthetic-topic"], "seeds": [0],
        "defaults": {"intermediate": {"task": {"validation_languages": []}},
                     "target": {"task": {"validation_languages": []}}},
        "steps": {"intermediate": 4, "target": 4}, "checkpoint_every": 4,
        # configs/tuning/lora.yaml loads the frozen weights in bf16, which needs autocast: on CPU, as on GPU
        "args": ["--trainer.accelerator=cpu", "--trainer.devices=1", "--trainer.enable_progress_bar=false",
                 "--trainer.enable_model_summary=false", "--trainer.logger=false", "--trainer.precision=bf16-mixed"],
    }  # fmt: skip
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(document))
    return load_study(path)


def test_a_lora_study_hands_adapters_on_and_records_its_tuning(tmp_path):
    spec = _study(tmp_path, tuning="lora", handoff="stack")
    runs = {run.id: run for run in expand(spec)}
    stacked = runs["target.tiny-bloom-lora.synthetic-mlm.synthetic-topic.s0"]
    # The tuning axis stacks after the task's config: LoRA's rate, not the task file's full fine-tuning one.
    fit = stacked.commands[0]
    configs = [fit[i + 1] for i, argument in enumerate(fit) if argument == "--config"]
    assert configs[-1] == "configs/tuning/lora.yaml" and "synthetic-topic" in configs[-2]
    model = effective_config(fit, PROJECT)["config"]["model"]
    assert (model["encoder"]["tuning"], model["learning_rate"], model["learning_rate_by_encoder"]) == ("lora", 1.0e-4,
                                                                                                     None)  # fmt: skip
    # A task entry's own `set` comes after the tuning file: the study means it in every phase.
    spec.targets["synthetic-topic"].set = {"model.learning_rate": 3.0e-4}
    fit = {run.id: run for run in expand(spec)}[stacked.id].commands[0]
    assert "--model.learning_rate=0.0003" in fit
    assert effective_config(fit, PROJECT)["config"]["model"]["learning_rate"] == 3.0e-4
    assert "--model.encoder.adapter_handoff=stack" in stacked.commands[0]
    cwd = os.getcwd()
    os.chdir(PROJECT)
    try:
        assert set(run_local(list(runs.values()), PROJECT, in_process=True).values()) == {"done"}
    finally:
        os.chdir(cwd)
    assert (
        tmp_path / "out" / "intermediate.tiny-bloom-lora.synthetic-mlm.s0" / "encoder" / "adapter_config.json"
    ).is_file()
    table = results_table(spec.study, list(runs.values()))
    assert set(table["run"]) == {stacked.id} and set(table["tuning"]) == {"lora-stacked"}
    assert runs["intermediate.tiny-bloom-lora.synthetic-mlm.s0"].tuning == "lora"  # it writes no scores here


def test_a_stacked_handoff_without_a_lora_target_is_a_study_problem(tmp_path):
    with pytest.raises(UserError, match=r"handoff: stack .* set tuning.target: lora"):
        _study(tmp_path, tuning={"intermediate": "lora"}, handoff="stack")
    with pytest.raises(UserError, match=r"tuning.target:` expected `full` or `lora`, got 'prefix'"):
        _study(tmp_path, tuning={"target": "prefix"})
