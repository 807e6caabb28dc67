"""Scale: the configs of configs/scale/, the effective batch, the planner against DeepSpeed's own
estimators, sharded construction, and (marked slow) 2-process FSDP2 runs on CPU with gloo."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from conftest import PROJECT
from helpers import cli, quickstart, results

from lightning_xfer.checkpoints import encoder_state
from lightning_xfer.encoder.loading import load_encoder
from lightning_xfer.encoder.spec import EncoderSpec
from lightning_xfer.errors import UserError
from lightning_xfer.scale import plan
from lightning_xfer.scale.architectures import architecture
from lightning_xfer.scale.batch_size import gradient_accumulation

SCALE_CONFIGS = sorted((PROJECT / "configs" / "scale").glob("*.yaml"))


# -- configs ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("config", SCALE_CONFIGS, ids=lambda p: p.stem)
def test_every_scale_config_composes_and_builds_its_strategy(config, monkeypatch, capsys):
    monkeypatch.chdir(PROJECT)
    with pytest.raises(SystemExit):
        cli(
            "fit",
            "--config",
            "configs/trainer/gpu.yaml",
            "--config",
            "configs/tasks/panx.yaml",
            "--config",
            "configs/encoders/xlm-roberta-xxl.yaml",
            "--config",
            str(config.relative_to(PROJECT)),
            "--print_config",
        )
    printed = capsys.readouterr().out.splitlines()  # DeepSpeed's import logs a line to stdout on a CPU machine
    resolved = yaml.safe_load("\n".join(line for line in printed if not line.startswith("[20")))
    assert resolved["model"]["encoder"]["name"] == "facebook/xlm-roberta-xxl"  # the encoder file's, kept
    assert resolved["data"]["tasks"][0]["name"] == "panx" and resolved["data"]["batch_size"] == 32
    assert resolved["data"]["micro_batch_size"] >= 1 and resolved["trainer"]["precision"] == "bf16-mixed"
    strategy = resolved["trainer"]["strategy"]
    if isinstance(strategy, str):
        assert strategy == "ddp"
        return
    module, _, name = strategy["class_path"].rpartition(".")
    built = getattr(importlib.import_module(module), name)(**strategy.get("init_args", {}))
    if "DeepSpeed" in name:
        zero = built.config["zero_optimization"]
        assert zero["stage"] == strategy["init_args"]["stage"]
        offloaded = strategy["init_args"].get("offload_optimizer", False)
        assert ("offload_optimizer" in zero) == offloaded and ("offload_param" in zero) == offloaded
        if "nvme" in config.stem:
            assert zero["offload_param"]["device"] == "nvme" and zero["offload_optimizer"]["device"] == "nvme"
    else:
        assert name == "FSDP2Strategy" and built._tensor_parallel_size == 1


def test_gradient_accumulation_keeps_the_effective_batch():
    assert gradient_accumulation(32, 4, 1) == 8
    assert gradient_accumulation(32, 4, 8) == 1
    assert gradient_accumulation(32, 1, 16) == 2
    with pytest.raises(UserError, match=r"data.batch_size=16 .* data.micro_batch_size=4 x 8 processes = 32"):
        gradient_accumulation(16, 4, 8)
    with pytest.raises(UserError, match="not a multiple"):
        gradient_accumulation(32, 3, 2)


def test_a_micro_batch_trains_the_same_optimizer_steps_with_accumulation(tmp_path):
    """batch 32 in micro-batches of 8 on one process: 4 accumulated per step, so 12 batches are 3 steps."""
    run = quickstart("fit", tmp_path, "--trainer.max_epochs=1", "--trainer.limit_train_batches=12",
                     "--data.micro_batch_size=8", "--export.enabled=false")  # fmt: skip
    assert run.trainer.accumulate_grad_batches == 4 and run.trainer.global_step == 3
    assert run.datamodule.train_dataloader().iterables.sampler.batch_size == 8  # the TaskSampledLoader's


def test_a_micro_batch_and_an_explicit_accumulation_are_an_error(tmp_path):
    with pytest.raises(UserError, match=r"drop trainer\.accumulate_grad_batches=2"):
        quickstart("fit", tmp_path, "--data.micro_batch_size=8", "--trainer.accumulate_grad_batches=2")


# -- the planner ------------------------------------------------------------------------------------
def test_parameter_counts_of_the_named_sizes():
    """Counted on the meta device; base and large equal a hand count (embeddings 250,002 x h +
    positions 514 x h + type h + LayerNorm 2h; per layer 4(h²+h) + 2(h·4h) + 5h + 4h), and with
    the pooler (h² + h) they are the released checkpoints' published 278,043,648 and 559,890,432."""

    def by_hand(h: int, layers: int) -> int:
        embeddings = 250002 * h + 514 * h + h + 2 * h
        layer = 4 * (h * h + h) + 2 * h + (h * 4 * h + 4 * h) + (4 * h * h + h) + 2 * h
        return embeddings + layers * layer

    base, large = architecture("xlm-roberta-base"), architecture("xlm-roberta-large")
    assert base.parameters == by_hand(768, 12) == 277_453_056
    assert large.parameters == by_hand(1024, 24) == 558_840_832
    assert base.parameters + 768 * 768 + 768 == 278_043_648
    assert large.parameters + 1024 * 1024 + 1024 == 559_890_432
    xl, xxl = architecture("facebook/xlm-roberta-xl"), architecture("xlm-roberta-xxl")
    assert 3.4e9 < xl.parameters < 3.6e9 and 10.6e9 < xxl.parameters < 10.8e9  # "3.5B" and "10.7B"
    assert xxl.largest_module_parameters == 250880 * 4096  # the word embeddings


def test_planner_counts_match_a_built_model(tiny_tokenizer):
    built = load_encoder(EncoderSpec(name="tiny"))
    counted = architecture("tiny")
    assert counted.parameters == sum(p.numel() for p in built.parameters())


@pytest.mark.parametrize("name", ["xlm-roberta-base", "xlm-roberta-large", "xlm-roberta-xl", "xlm-roberta-xxl"])
def test_model_state_bytes_match_deepspeeds_estimators(name, monkeypatch):
    monkeypatch.setenv("DS_ACCELERATOR", "cpu")
    stage2 = pytest.importorskip("deepspeed.runtime.zero.stage_1_and_2")
    stage3 = pytest.importorskip("deepspeed.runtime.zero.stage3")
    from transformers import AutoModel

    from lightning_xfer.scale.architectures import named_config

    arch = architecture(name)
    # DeepSpeed's own count of the same model: its largest module on the meta device; its total
    # de-duplicates by storage address, so it needs real storage (base, in bf16: 0.55 GB).
    with torch.device("meta"):
        _, largest = stage3.model_to_params(AutoModel.from_config(named_config(name), add_pooling_layer=False))
    assert largest == arch.largest_module_parameters
    if name == "xlm-roberta-base":
        real = AutoModel.from_config(named_config(name), add_pooling_layer=False, dtype=torch.bfloat16)
        assert stage3.model_to_params(real)[0] == arch.parameters
    total = arch.parameters
    for gpus, nodes in ((1, 1), (8, 1), (8, 2), (4, 16)):
        for offload in (False, True):
            assert plan.zero2_model_states(total, gpus, nodes, offload) == stage2.estimate_zero2_model_states_mem_needs(
                total, gpus, nodes, cpu_offload=offload
            )
            ours = plan.zero3_model_states(total, largest, gpus, nodes, offload)
            theirs = stage3.estimate_zero3_model_states_mem_needs(
                total, largest, gpus, nodes, cpu_offload=offload, cpu_offload_params=offload, zero_init=True
            )
            assert ours == theirs[:2]


def test_the_plan_for_xxl_on_two_nodes(capsys):
    cli_plan = importlib.import_module("lightning_xfer.scale.command")
    cli_plan.plan_command(encoder="xlm-roberta-xxl", gpus=8, nodes=2, gpu_mem=80)
    out = capsys.readouterr().out
    assert (
        "10,695,954,432 parameters" in out
        and "full fine-tuning: recommended --config configs/trainer/gpu.yaml --config configs/scale/" in out
    )
    assert "LoRA on frozen bf16 weights: recommended --config configs/trainer/gpu.yaml --config configs/scale/" in out
    assert "--config configs/tuning/lora.yaml" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith(plan.STRATEGIES)}
    assert rows["ddp"][7] == "no" and rows["fsdp2"][7] == "yes"  # 20 B/param = 199 GiB: DDP cannot hold XXL
    arch = architecture("xlm-roberta-xxl")
    # ZeRO-3 on 16 GPUs by hand: the gathered word embeddings (4 B each) + 18 B/param over 16 GPUs.
    zero3 = next(e for e in plan.estimates(arch, 8, 2, 1, 512, True) if e.strategy == "deepspeed-zero3")
    assert zero3.model_states == 4 * 250880 * 4096 + int(18 * arch.parameters / 16)


def test_bloom_and_mt5_counts_and_memory_by_hand():
    """BLOOM per layer: 2 LayerNorms (4h), fused QKV (3h² + 3h), output (h² + h), MLP (4h² + 4h and
    4h² + h); embeddings V·h + LayerNorm 2h, final LayerNorm 2h. mT5's encoder stack (no biases,
    RMS norms of h): q, k, v, o (4·h·inner), gated FF (3·h·d_ff), 2 norms; relative position bias
    32 buckets x heads in layer 0; shared embeddings once; final norm."""

    def bloom(h: int, layers: int) -> int:
        return 250880 * h + 2 * h + layers * (12 * h * h + 13 * h) + 2 * h

    assert architecture("bigscience/bloom-560m").parameters == bloom(1024, 24) == 559_214_592
    assert architecture("bigscience/bloom-3b").parameters == bloom(2560, 30) == 3_002_557_440
    big = architecture("bigscience/bloom")
    assert big.parameters == bloom(14336, 70) == 176_247_271_424
    h, d_ff, layers = 4096, 10240, 24
    mt5_xxl = 250112 * h + layers * (4 * h * 64 * 64 + 3 * h * d_ff + 2 * h) + 32 * 64 + h
    assert architecture("google/mt5-xxl").parameters == mt5_xxl == 5_655_173_120
    # LoRA rank 16 on BLOOM's four linear layers per block: r·(h + 3h) + r·2h + r·5h + r·5h.
    assert big.adapter_parameters == 70 * 16 * 16 * 14336
    # BLOOM-176B on one node of 8 x 80 GiB: LoRA under ZeRO-3 = 2P/8 + 4L + 18A/8 (+ activations) fits;
    # full fine-tuning needs dozens of GPUs even fully sharded.
    found = {e.strategy: e for e in plan.estimates(big, 8, 1, 1, 512, True)}
    lora = found["lora-zero3"]
    assert lora.model_states == int(2 * big.parameters / 8) + 4 * 250880 * 14336 + int(18 * big.adapter_parameters / 8)
    assert lora.fits(80 * plan.GIB) and not found["fsdp2"].fits(80 * plan.GIB)
    full = plan.gpus_needed(big, "fsdp2", 80 * plan.GIB, 8, 1, 512, True)
    assert full is not None and full >= 40  # 16 B x 176B / 0.9 / 80 GiB = 36.5 GPUs, whole nodes
    assert plan.gpus_needed(big, "lora-zero3", 80 * plan.GIB, 8, 1, 512, True) == 8


def test_gpus_needed_by_hand():
    """XLM-R large under DDP: 20 B x 558.8M = 10.4 GiB; with 0 activations it fits a 12 GiB GPU
    (90% = 10.8 GiB) but not a 11 GiB one."""
    large = architecture("xlm-roberta-large")
    assert plan.gpus_needed(large, "ddp", 12 * plan.GIB, 8, batch=0, length=0, checkpointing=True) == 1
    assert plan.gpus_needed(large, "ddp", 11 * plan.GIB, 8, batch=0, length=0, checkpointing=True) is None


# -- sharded construction ---------------------------------------------------------------------------
def test_an_empty_encoder_is_built_on_the_meta_device_without_reading_weights(tiny_tokenizer):
    empty = load_encoder(EncoderSpec(name="tiny"), empty=True)
    assert all(p.is_meta for p in empty.parameters())
    assert sum(p.numel() for p in empty.parameters()) == architecture("tiny").parameters


def test_consolidate_writes_a_checkpoints_encoder_as_a_folder(tmp_path):
    quickstart("fit", tmp_path, "--trainer.max_epochs=1", "--trainer.limit_train_batches=3",
               "--export.enabled=false")  # fmt: skip
    checkpoint = next(tmp_path.glob("**/checkpoints/last.ckpt"))
    from lightning_xfer.scale.command import consolidate_command

    consolidate_command(str(checkpoint), out=str(tmp_path / "encoder"))
    folder = load_encoder(EncoderSpec(name=str(tmp_path / "encoder"))).state_dict()
    saved = encoder_state(checkpoint)
    assert set(saved) <= set(folder) and all(torch.equal(folder[k], saved[k]) for k in saved)


# -- 2-process FSDP2 on CPU (slow) ------------------------------------------------------------------
FSDP2 = {"class_path": "lightning_xfer.scale.fsdp2.FSDP2Strategy"}
# ZeRO-3 as configs/scale/deepspeed-zero3.yaml sets it, on CPU processes (tests/cpu_deepspeed.py).
ZERO3 = {"class_path": "cpu_deepspeed.CPUDeepSpeedStrategy", "init_args": {"stage": 3, "process_group_backend": "gloo"}}


def _two_processes(command: str, *args: str, cwd: Path, strategy: dict = FSDP2) -> subprocess.CompletedProcess:
    config = cwd / "two-processes.yaml"
    trainer = {"strategy": strategy, "accelerator": "cpu", "devices": 2, "logger": False, "enable_progress_bar": False}
    config.write_text(yaml.safe_dump({"trainer": trainer}))
    argv = [sys.executable, "-m", "lightning_xfer", command, "--config", str(PROJECT / "configs" / "quickstart.yaml"),
            "--config", str(config), *args]  # fmt: skip
    environment = {**os.environ, "PYTHONPATH": f"{PROJECT}{os.pathsep}{PROJECT / 'tests'}", "DS_ACCELERATOR": "cpu"}
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=600, env=environment)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done


@pytest.mark.slow
def test_fsdp2_two_processes_train_resume_and_export_the_consolidated_weights(tmp_path):
    run = tmp_path / "run"
    common = [f"--trainer.default_root_dir={run}", f"--results.path={run}/results.jsonl",
              "--trainer.callbacks+=pytorch_lightning.callbacks.ModelCheckpoint",
              f"--trainer.callbacks.dirpath={run}/checkpoints", "--trainer.callbacks.save_last=true",
              "--trainer.callbacks.save_top_k=0", "--trainer.max_epochs=-1", "--export.weights=final",
              f"--export.dirpath={run}/encoder"]  # fmt: skip
    _two_processes("fit", *common, "--trainer.max_steps=4", cwd=tmp_path)
    last = run / "checkpoints" / "last.ckpt"
    assert (last / ".metadata").is_file() and len(list(last.glob("*.distcp"))) == 2  # one shard per rank
    first = encoder_state(last)
    resumed = _two_processes("fit", *common, "--trainer.max_steps=8", f"--ckpt_path={last}", cwd=tmp_path)
    assert "Restored" in resumed.stdout + resumed.stderr
    assert torch.load(last / "meta.pt", weights_only=True)["global_step"] == 8  # the step went on from 4
    consolidated = encoder_state(last)
    assert any(not torch.equal(first[k], consolidated[k]) for k in first)  # the resumed steps trained
    exported = load_encoder(EncoderSpec(name=str(run / "encoder"))).state_dict()
    assert all(torch.equal(exported[k], consolidated[k]) for k in consolidated)
    # The target run starts from that export: its encoder is exactly the consolidated weights.
    target = quickstart("fit", tmp_path / "target", f"--model.encoder.name={run / 'encoder'}",
                        "--trainer.max_steps=0", "--export.enabled=false")  # fmt: skip
    start = target.model.encoder.state_dict()
    assert all(torch.equal(start[k], consolidated[k]) for k in consolidated)


@pytest.mark.slow
def test_fsdp2_scores_equal_single_process_scores_on_the_same_checkpoint(tmp_path):
    """Rank 0 alone reads the weights, the other rank receives its shards: any mistake in that
    broadcast, in the sharded forward or in gathering predictions changes a score."""
    quickstart("fit", tmp_path / "single", "--trainer.max_epochs=2", "--export.enabled=false")
    checkpoint = next((tmp_path / "single").glob("**/checkpoints/last.ckpt"))
    quickstart("test", tmp_path / "single", f"--ckpt_path={checkpoint}", f"--results.path={tmp_path}/single.jsonl")
    _two_processes("test", f"--ckpt_path={checkpoint}", f"--trainer.default_root_dir={tmp_path / 'sharded'}",
                   f"--results.path={tmp_path}/sharded.jsonl", cwd=tmp_path)  # fmt: skip
    single, sharded = results(tmp_path / "single.jsonl"), results(tmp_path / "sharded.jsonl")
    assert len(single) == 4 and [(r["language"], r["value"], r["examples"]) for r in sharded] == [
        (r["language"], r["value"], r["examples"]) for r in single
    ]
    assert max(r["value"] for r in single) > 50  # a trained model, not chance (25)


def _sbatch_arguments() -> list[str]:
    """The `X` the SLURM template builds up and passes to fit and test."""
    arguments: list[str] = []
    for line in (PROJECT / "configs" / "scale" / "cluster" / "slurm.sbatch").read_text().splitlines():
        if line.startswith('X="'):
            arguments += line[3:-1].removeprefix("$X ").split()
    return arguments


def test_the_cluster_templates_commands_parse(monkeypatch, capsys):
    """The SLURM template's and the torchrun example's command lines, as LightningCLI reads them."""
    monkeypatch.chdir(PROJECT)
    torchrun = (PROJECT / "configs" / "scale" / "cluster" / "torchrun.sh").read_text()
    torchrun_args = torchrun.split("-m lightning_xfer fit", 1)[1].replace("\\\n", " ").split()
    for arguments in (_sbatch_arguments(), torchrun_args):
        with pytest.raises(SystemExit):
            cli("fit", *arguments, "--print_config")
        printed = capsys.readouterr().out.splitlines()
        resolved = yaml.safe_load("\n".join(line for line in printed if not line.startswith("[20")))
        assert resolved["trainer"]["num_nodes"] == 2 and str(resolved["trainer"]["devices"]) == "8"
        assert resolved["trainer"]["strategy"]["class_path"] == "lightning_xfer.scale.fsdp2.FSDP2Strategy"
        assert resolved["model"]["encoder"]["name"] == "facebook/xlm-roberta-xxl"


@pytest.mark.slow
def test_zero3_builds_the_encoder_partitioned_with_the_pretrained_weights_and_exports_them(tmp_path):
    """Two DeepSpeed ZeRO-3 processes (CPU, gloo): `from_pretrained` inside `zero.Init` fills the
    partitions with the pretrained weights (at learning rate 0 the exported encoder, consolidated by
    DeepSpeed's zero_to_fp32, is exactly the preset); the partitioned optimizer trains (weight decay
    groups built from `ds_shape`: partitioned parameters are empty placeholders); training resumes
    from the ZeRO folder; `consolidate` writes that folder's encoder."""
    pytest.importorskip("deepspeed")

    def fit(run: Path, *args: str) -> subprocess.CompletedProcess:
        return _two_processes("fit", f"--trainer.default_root_dir={run}", "--trainer.max_epochs=-1",
                              "--export.weights=final", f"--export.dirpath={run}/encoder",
                              "--trainer.callbacks+=pytorch_lightning.callbacks.ModelCheckpoint",
                              f"--trainer.callbacks.dirpath={run}/checkpoints", "--trainer.callbacks.save_last=true",
                              "--trainer.callbacks.save_top_k=0", "--trainer.limit_val_batches=2", *args,
                              cwd=tmp_path, strategy=ZERO3)  # fmt: skip

    fit(tmp_path / "frozen", "--trainer.max_steps=2", "--model.learning_rate=0.0", "--model.weight_decay=0.1")
    preset = load_encoder(EncoderSpec(name="tiny")).state_dict()
    exported = load_encoder(EncoderSpec(name=str(tmp_path / "frozen" / "encoder"))).state_dict()
    assert all(torch.equal(exported[k], preset[k]) for k in preset)
    last = tmp_path / "run" / "checkpoints" / "last.ckpt"
    fit(tmp_path / "run", "--trainer.max_steps=2")
    assert (last / "latest").is_file()  # a DeepSpeed folder, one shard per rank inside
    at_two = encoder_state(last)
    assert any(not torch.equal(at_two[k], preset[k]) for k in preset)  # the partitioned optimizer steps
    resumed = fit(tmp_path / "run", "--trainer.max_steps=4", f"--ckpt_path={last}")
    assert "Restored" in resumed.stdout + resumed.stderr
    at_four = encoder_state(last)
    assert any(not torch.equal(at_four[k], at_two[k]) for k in at_two)  # steps 3 and 4 ran after the resume
    # `consolidate` turns the ZeRO folder into an encoder folder (settings from its hyperparameters).
    from lightning_xfer.scale.command import consolidate_command

    consolidate_command(str(last), out=str(tmp_path / "consolidated"))
    folder = load_encoder(EncoderSpec(name=str(tmp_path / "consolidated"))).state_dict()
    assert all(torch.equal(folder[k], at_four[k]) for k in at_four)


@pytest.mark.slow
def test_zero3_scores_equal_single_process_scores_on_the_same_checkpoint(tmp_path):
    pytest.importorskip("deepspeed")
    quickstart("fit", tmp_path / "single", "--trainer.max_epochs=2", "--export.enabled=false")
    checkpoint = next((tmp_path / "single").glob("**/checkpoints/last.ckpt"))
    quickstart("test", tmp_path / "single", f"--ckpt_path={checkpoint}", f"--results.path={tmp_path}/single.jsonl")
    _two_processes(
        "test",
        f"--ckpt_path={checkpoint}",
        f"--trainer.default_root_dir={tmp_path / 'sharded'}",
        f"--results.path={tmp_path}/sharded.jsonl",
        cwd=tmp_path,
        strategy={**ZERO3, "init_args": {**ZERO3["init_args"], "load_full_weights": True}},
    )  # a .ckpt file
    single, sharded = results(tmp_path / "single.jsonl"), results(tmp_path / "sharded.jsonl")
    assert [(r["language"], r["value"], r["examples"]) for r in sharded] == [
        (r["language"], r["value"], r["examples"]) for r in single
    ]


def test_the_slurm_template_started_with_bash_makes_its_log_folder_then_submits_itself(tmp_path):
    """SLURM opens `--output=runs/slurm/...` before the script runs, and a fresh clone has no `runs/`:
    `sbatch` alone failed the job with no log at all. Started with `bash`, the template makes the
    folder and submits itself (a stand-in `sbatch` here records that)."""
    template = PROJECT / "configs" / "scale" / "cluster" / "slurm.sbatch"
    (tmp_path / "bin").mkdir()
    stand_in = tmp_path / "bin" / "sbatch"
    stand_in.write_text('#!/bin/bash\n[ -d runs/slurm ] && echo "$@" > submitted.txt\n')
    stand_in.chmod(0o755)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    environment["PATH"] = f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"
    done = subprocess.run(["bash", str(template)], cwd=tmp_path, env=environment, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "submitted.txt").read_text().split() == [str(template)]


# -- the planner counts what each scale file runs -----------------------------------------------------


def test_the_plan_counts_each_scale_files_micro_batch_checkpointing_and_attention():
    """Unless told otherwise the planner counts each strategy as its scale file runs it: ddp.yaml's
    micro-batch 4 without gradient checkpointing, ZeRO-2's 2 with it, and for BLOOM (no SDPA in
    transformers: eager attention) the attention scores and probabilities each layer keeps,
    5·a·s²·b bytes (Korthikanti et al.: bf16 scores and probabilities, the dropout mask)."""
    s = 512
    base, bloom = architecture("xlm-roberta-base"), architecture("bigscience/bloom-3b")
    assert base.attention == "sdpa" and bloom.attention == "eager"
    for arch in (base, bloom):
        h, layers, scores = arch.hidden_size, arch.num_layers, 5 * arch.num_heads * s * s * (arch.attention == "eager")

        def layer(b: int, h: int = h, scores: int = scores) -> int:
            return 34 * s * b * h + scores * b

        found = {e.strategy: e for e in plan.estimates(arch, 8, 1, None, s, None)}
        assert (found["ddp"].micro_batch, found["ddp"].checkpointing) == (4, False)
        assert found["ddp"].activations == layers * layer(4)
        assert (found["deepspeed-zero2"].micro_batch, found["deepspeed-zero2"].checkpointing) == (2, True)
        assert found["deepspeed-zero2"].activations == layers * 2 * s * 2 * h + layer(2)
        assert found["lora-ddp"].micro_batch == 4 and found["lora-ddp"].checkpointing
        assert found["fsdp2"].activations == layers * 2 * s * h + layer(1)
    # What a user passes wins over the file: --batch 1 --gradient-checkpointing counts ddp as such.
    ddp = next(e for e in plan.estimates(base, 8, 1, 1, s, True) if e.strategy == "ddp")
    assert ddp.activations == base.num_layers * 2 * s * base.hidden_size + 34 * s * base.hidden_size


def test_the_plan_checks_cpu_memory_unless_told_a_node_has_more(capsys):
    """BLOOM-176B full fine-tuning under ZeRO-3 offload needs 18P·1.5 = 4.4 TiB of CPU memory on one
    node: without --cpu-mem it was recommended on one GPU. Now a node is assumed to have 512 GiB (and
    the plan says so): offload needs 10 nodes, and nothing fits 8 GPUs."""
    from lightning_xfer.scale.command import plan_command

    plan_command(encoder="bigscience/bloom", gpus=8, gpu_mem=80)
    assert f"(unset: {plan.DEFAULT_CPU_MEMORY_GIB:g}," in plan_command.__doc__  # what `plan --help` says
    out = capsys.readouterr().out
    assert "512 GiB CPU memory per node (assumed; --cpu-mem" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith(plan.STRATEGIES)}
    assert rows["deepspeed-zero3-offload"][7] == "no" and int(rows["deepspeed-zero3-offload"][8]) == 80
    assert "full fine-tuning: nothing fits on 8 GPUs" in out
    assert (
        "LoRA on frozen bf16 weights: recommended --config configs/trainer/gpu.yaml --config "
        "configs/scale/deepspeed-zero3.yaml --config configs/tuning/lora.yaml"
    ) in out
    plan_command(encoder="bigscience/bloom", gpus=8, gpu_mem=80, cpu_mem=8192)
    assert (
        "full fine-tuning: recommended --config configs/trainer/gpu.yaml --config "
        "configs/scale/deepspeed-zero3-offload.yaml" in capsys.readouterr().out
    )
