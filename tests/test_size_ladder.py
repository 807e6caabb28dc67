"""The size-ladder study (`configs/studies/size-ladder.yaml`): every run carries the planner's
estimate for the GPUs under `hardware:`, counted offline from the named shapes."""

from __future__ import annotations

import pytest
import yaml
from conftest import PROJECT

from lightning_xfer.errors import UserError
from lightning_xfer.study.command import study_command
from lightning_xfer.study.graph import expand
from lightning_xfer.study.hardware import estimates, model_name, strategy_of
from lightning_xfer.study.spec import load_study

LADDER = PROJECT / "configs" / "studies" / "size-ladder.yaml"


def test_every_rung_of_the_ladder_fits_the_gpus_its_entry_asks_for():
    spec = load_study(LADDER)
    names = {entry.name: model_name(entry) for entry in spec.encoders}
    assert names["xlm-roberta-xxl"] == "facebook/xlm-roberta-xxl"  # read from its encoder config
    assert names["bloom-176b-lora"] == "bigscience/bloom"  # args win over configs
    lines = estimates(spec)
    assert all("(fits;" in line for line in lines.values()), [line for line in lines.values() if "(fits;" not in line]
    top = next(entry for entry in spec.encoders if entry.name == "bloom-176b-lora")
    assert strategy_of(top, "target") == "lora-zero3"
    assert lines[("bloom-176b-lora", "target")].startswith("plan: lora-zero3 on 1x8 GPUs")
    small = next(entry for entry in spec.encoders if entry.name == "bloom-560m")
    assert strategy_of(small, "target") == "ddp"
    assert {run.encoder for run in expand(spec)} == set(names)  # 3 seeds of every encoder expand


def test_status_prints_the_estimate_beside_every_run(tmp_path, capsys):
    document = yaml.safe_load(LADDER.read_text())
    document.update(out=str(tmp_path / "out"), seeds=[0], targets=["xnli"], intermediate=["none", "squad"])
    path = tmp_path / "ladder.yaml"
    path.write_text(yaml.safe_dump(document))
    study_command(["status", str(path)])
    out = capsys.readouterr().out.splitlines()
    runs = [line for line in out if line.split()[:1] and line.split()[0].count(".") >= 3]
    assert runs and all("[plan: " in line for line in runs)
    assert any(line.startswith("target.bloom-176b-lora.squad.xnli.s0") and "lora-zero3" in line for line in runs)


def test_an_unknown_hardware_key_names_the_file_and_the_known_keys(tmp_path):
    document = yaml.safe_load(LADDER.read_text())
    document["hardware"] = {"gpu_mem": 80}
    path = tmp_path / "ladder.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(UserError) as error:
        load_study(path)
    assert f"{path}: hardware.gpu_mem: unknown" in str(error.value) and "gpu_memory_gib" in str(error.value)


def test_a_runs_estimate_counts_its_own_scale_files_micro_batch_and_checkpointing():
    """ddp.yaml runs micro-batch 4 without gradient checkpointing (and BLOOM eager attention): the
    estimate counts that, not micro-batch 1 with checkpointing; an entry's args win over its files.
    CPU memory is checked against 512 GiB per node unless `hardware:` says otherwise."""
    from lightning_xfer.scale import plan
    from lightning_xfer.scale.architectures import architecture
    from lightning_xfer.study.hardware import estimate_line
    from lightning_xfer.study.spec import EncoderEntry, HardwareSettings

    hardware = HardwareSettings()
    assert hardware.cpu_memory_gib == 512 and hardware.micro_batch is None
    arch = architecture("bigscience/bloom-3b")
    as_file = EncoderEntry(
        "bloom-3b", configs=["configs/scale/ddp.yaml"], args=["--model.encoder.name=bigscience/bloom-3b"]
    )
    ddp = next(e for e in plan.estimates(arch, 1, 1, 4, 512, False) if e.strategy == "ddp")
    line = estimate_line(as_file, "target", hardware)
    assert "micro-batch 4 without gradient checkpointing" in line and f"{ddp.per_gpu / plan.GIB:.1f} of 80 GiB" in line
    args = ["--model.encoder.name=bigscience/bloom-3b", "--data.micro_batch_size=1",
            "--model.encoder.gradient_checkpointing=true"]  # fmt: skip
    overridden = EncoderEntry("bloom-3b", configs=["configs/scale/ddp.yaml"], args=args)
    small = next(e for e in plan.estimates(arch, 1, 1, 1, 512, True) if e.strategy == "ddp")
    line = estimate_line(overridden, "target", hardware)
    assert "micro-batch 1 with gradient checkpointing" in line and f"{small.per_gpu / plan.GIB:.1f} of 80 GiB" in line
