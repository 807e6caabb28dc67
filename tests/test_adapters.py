"""LoRA through peft: a per-phase switch, and the intermediate -> target hand-off of adapters (merged
into the weights, or kept and stacked under the target's own), on the tiny BLOOM preset."""

from __future__ import annotations

import pytest
import torch
from helpers import quickstart
from safetensors.torch import load_file

from lightning_xfer.encoder.loading import load_encoder, load_tokenizer
from lightning_xfer.encoder.spec import EncoderSpec
from lightning_xfer.errors import UserError

pytest.importorskip("peft", reason="needs the `peft` extra")
LORA = ["--model.encoder.name=tiny-bloom", "--model.encoder.tuning=lora", "--model.encoder.lora_rank=4",
        "--trainer.max_epochs=1", "--trainer.limit_train_batches=3", "--trainer.limit_val_batches=1"]  # fmt: skip


def _lora_weights(encoder, adapter: str) -> dict[str, torch.Tensor]:
    """LoRA matrices of one adapter, keyed by their module path."""
    return {name.replace(f".{adapter}", ""): p.detach().clone() for name, p in encoder.named_parameters()
            if "lora_" in name and f".{adapter}." in name}  # fmt: skip


@pytest.fixture(scope="module")
def intermediate(tmp_path_factory):
    """A LoRA intermediate run, its exported adapter folder and its trained encoder."""
    root = tmp_path_factory.mktemp("lora-intermediate")
    run = quickstart("fit", root, *LORA, f"--export.dirpath={root / 'encoder'}", "--export.weights=final")
    return root / "encoder", run.model.encoder


def test_a_lora_run_trains_only_adapters_and_exports_an_adapter_folder(intermediate):
    folder, encoder = intermediate
    trainable = [name for name, p in encoder.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in name for name in trainable)
    assert (folder / "adapter_config.json").is_file() and not (folder / "config.json").exists()
    saved = load_file(folder / "adapter_model.safetensors")
    assert len(saved) == len(trainable)
    trained_base = {k.replace("base_model.model.", "").replace(".base_layer", ""): v
                    for k, v in encoder.state_dict().items() if "lora_" not in k}  # fmt: skip
    base = load_encoder(EncoderSpec(name="tiny-bloom")).state_dict()
    assert base.keys() == trained_base.keys()
    assert all(torch.equal(base[k], trained_base[k]) for k in base)  # the frozen weights did not move


def test_a_stacked_hand_off_reloads_exactly_the_adapter_weights_it_saved(intermediate):
    folder, encoder = intermediate
    stacked = load_encoder(EncoderSpec(name=str(folder), tuning="lora", lora_rank=4, adapter_handoff="stack"))
    trained, reloaded = _lora_weights(encoder, "default"), _lora_weights(stacked, "handoff0")
    assert trained.keys() == reloaded.keys() and all(torch.equal(trained[k], reloaded[k]) for k in trained)
    assert all(not p.requires_grad for n, p in stacked.named_parameters() if ".handoff0." in n)
    assert all(p.requires_grad for n, p in stacked.named_parameters() if ".default." in n)
    tokenizer = load_tokenizer(str(folder))
    batch = dict(tokenizer(["the old team won the cup"], return_tensors="pt"))
    encoder.eval(), stacked.eval()
    with torch.no_grad():
        expected = encoder(**batch).last_hidden_state
        # The new adapter starts at B = 0: the stacked encoder is the intermediate encoder, exactly.
        assert torch.equal(stacked(**batch).last_hidden_state, expected)
        merged = load_encoder(EncoderSpec(name=str(folder))).eval()
        assert type(merged).__name__ == "BloomModel"  # merged into plain weights
        assert torch.allclose(merged(**batch).last_hidden_state, expected, atol=1e-5)
        assert not torch.allclose(load_encoder(EncoderSpec(name="tiny-bloom"))(**batch).last_hidden_state,
                                  expected, atol=1e-5)  # fmt: skip


def test_a_target_run_on_a_stacked_adapter_trains_its_own_and_keeps_the_intermediate_one(intermediate, tmp_path):
    folder, encoder = intermediate
    run = quickstart("fit", tmp_path, *LORA, f"--model.encoder.name={folder}", "--model.encoder.adapter_handoff=stack",
                     f"--export.dirpath={tmp_path / 'encoder'}", "--export.weights=final")  # fmt: skip
    target = run.model.encoder
    before, kept = _lora_weights(encoder, "default"), _lora_weights(target, "handoff0")
    assert all(torch.equal(before[k], kept[k]) for k in before)
    own = _lora_weights(target, "default")
    assert any(not torch.equal(p, torch.zeros_like(p)) for k, p in own.items() if "lora_B" in k)  # it trained
    # The target's export is its own adapter, on top of the intermediate folder: a chain that reloads.
    chained = load_encoder(EncoderSpec(name=str(tmp_path / "encoder"), tuning="lora", lora_rank=4,
                                       adapter_handoff="stack"))  # fmt: skip
    assert set(chained.peft_config) == {"handoff0", "handoff1", "default"}
    assert all(torch.equal(own[k], v) for k, v in _lora_weights(chained, "handoff1").items())


def test_stacking_without_lora_is_an_error(intermediate):
    with pytest.raises(UserError, match="adapter_handoff=stack"):
        load_encoder(EncoderSpec(name=str(intermediate[0]), adapter_handoff="stack"))


FSDP2 = {"class_path": "lightning_xfer.scale.fsdp2.FSDP2Strategy"}
# ZeRO-3 as configs/scale/deepspeed-zero3.yaml + configs/tuning/lora.yaml set it, on CPU processes
# (tests/cpu_deepspeed.py).
ZERO3 = {"class_path": "cpu_deepspeed.CPUDeepSpeedStrategy", "init_args": {"stage": 3, "process_group_backend": "gloo"}}


@pytest.mark.parametrize("strategy", [FSDP2, pytest.param(ZERO3, marks=pytest.mark.slow)], ids=["fsdp2", "zero3"])
def test_lora_on_two_sharded_processes_exports_the_consolidated_adapter(strategy, tmp_path):
    """FSDP2 or ZeRO-3 over 2 CPU processes (gloo) with frozen base weights and LoRA adapters in the
    same units; the export consolidates only the adapters of the sharded checkpoint (~15 s), and so
    does `consolidate`."""
    import os
    import subprocess
    import sys

    import yaml
    from conftest import PROJECT

    from lightning_xfer.checkpoints import encoder_state
    from lightning_xfer.export import consolidate

    trainer = {"strategy": strategy, "accelerator": "cpu", "devices": 2, "logger": False,
               "enable_progress_bar": False}  # fmt: skip
    (tmp_path / "two.yaml").write_text(yaml.safe_dump({"trainer": trainer}))
    run = tmp_path / "run"
    argv = [sys.executable, "-m", "lightning_xfer", "fit", "--config", str(PROJECT / "configs" / "quickstart.yaml"),
            "--config", str(tmp_path / "two.yaml"), *LORA, "--trainer.limit_val_batches=2",
            f"--trainer.default_root_dir={run}", f"--results.path={run}/results.jsonl",
            f"--export.dirpath={run}/encoder"]  # fmt: skip
    environment = {**os.environ, "PYTHONPATH": f"{PROJECT}{os.pathsep}{PROJECT / 'tests'}", "DS_ACCELERATOR": "cpu"}
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=600, env=environment)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    checkpoint = next(run.glob("checkpoints/epoch=*"))  # the best one: a sharded checkpoint folder
    assert checkpoint.is_dir()
    trained = encoder_state(checkpoint, adapters_only=True)
    assert trained and all("lora_" in k for k in trained)
    assert any(v.abs().sum() > 0 for k, v in trained.items() if "lora_B" in k)  # it trained
    consolidate(checkpoint, tmp_path / "consolidated")
    for folder in (run / "encoder", tmp_path / "consolidated"):
        reloaded = load_encoder(EncoderSpec(name=str(folder), tuning="lora", lora_rank=4, adapter_handoff="stack"))
        handed = _lora_weights(reloaded, "handoff0")
        assert len(handed) == len(trained)
        assert all(torch.equal(handed[k.replace(".default", "")], v) for k, v in trained.items())


@pytest.mark.slow
def test_a_hand_off_under_zero3_partitions_fills_and_merges_the_adapter_module_by_module(intermediate, tmp_path):
    """Built inside ZeRO-3 on 2 CPU processes, the merged and the stacked encoder gather to the same
    weights as in one process (this run's own new adapter aside: A is random, B starts at zero)."""
    import os
    import socket
    import subprocess
    import sys

    from conftest import PROJECT

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = PROJECT / "tests" / "zero3_handoff.py"
    processes = [
        subprocess.Popen(
            [sys.executable, str(script), str(intermediate[0]), str(tmp_path)],
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                "PYTHONPATH": str(PROJECT),
                "DS_ACCELERATOR": "cpu",
                "RANK": str(rank),
                "LOCAL_RANK": str(rank),
                "WORLD_SIZE": "2",
                "MASTER_ADDR": "127.0.0.1",
                "MASTER_PORT": str(port),
            },
        )
        for rank in (0, 1)
    ]
    outputs = [process.communicate(timeout=600)[0] for process in processes]
    assert all(process.returncode == 0 for process in processes), outputs[0][-3000:]
    for handoff in ("merge", "stack"):
        partitioned = torch.load(tmp_path / f"{handoff}.pt", weights_only=True)
        single = load_encoder(EncoderSpec(name=str(intermediate[0]), tuning="lora", lora_rank=4,
                                          adapter_handoff=handoff)).state_dict()  # fmt: skip
        assert partitioned.keys() == single.keys()
        for key, value in single.items():
            if ".lora_A.default." not in key:
                assert torch.allclose(partitioned[key], value, atol=1e-6), (handoff, key)


def _small_delta_adapter(folder, relative: float) -> dict[str, torch.Tensor]:
    """An adapter folder on tiny-bloom whose delta B·A·scaling is `relative` of each weight's norm
    (a short intermediate run's size), and those deltas in float64, keyed by module path."""
    import json

    import peft

    base = load_encoder(EncoderSpec(name="tiny-bloom"))
    adapted = peft.get_peft_model(base, peft.LoraConfig(r=4, lora_alpha=4, target_modules="all-linear"))
    generator, deltas = torch.Generator().manual_seed(0), {}
    for name, module in adapted.base_model.model.named_modules():
        if hasattr(module, "lora_A") and "default" in module.lora_A:
            a, b = module.lora_A["default"].weight, module.lora_B["default"].weight
            a.data = torch.randn(a.shape, generator=generator)
            b.data = torch.randn(b.shape, generator=generator)
            factor = (
                relative * module.get_base_layer().weight.norm() / module.get_delta_weight("default").norm()
            ).sqrt()
            a.data *= factor
            b.data *= factor
            deltas[name] = module.get_delta_weight("default").detach().double()
    adapted.save_pretrained(folder)
    (folder / "lightning_xfer_export.json").write_text(json.dumps({"base_encoder": "tiny-bloom"}))
    return deltas


def _weights_seen(encoder) -> dict[str, torch.Tensor]:
    """Per adapted linear layer, the weight the forward pass applies, in float64: the weight itself
    once merged, or the base weight plus every handed-on adapter's delta (this run's own starts at 0)."""
    from peft.tuners.lora import LoraLayer

    from lightning_xfer.encoder.adapters import OWN_ADAPTER, body, is_adapted

    seen = {}
    for name, module in body(encoder).named_modules():
        if isinstance(module, LoraLayer):
            weight = module.get_base_layer().weight.double()
            seen[name] = weight + sum(module.get_delta_weight(a).double() for a in module.lora_A if a != OWN_ADAPTER)
        elif isinstance(module, torch.nn.Linear) and not is_adapted(encoder):
            seen[name] = module.weight.double()
    return seen


@pytest.mark.parametrize("relative", [1e-3, 1e-2])
def test_a_small_delta_handed_on_to_bf16_weights_survives_the_default_hand_off(relative, tmp_path):
    """bf16 keeps 8 significant bits: added into bf16 weights, a delta of 1e-3 of the weight lost ~80%
    of itself and one of 1e-2 ~17% (peft's merge, or any merge cast back to bf16). A LoRA target on
    bf16 weights (both LoRA scale files) must see the intermediate adapter whole."""
    deltas = _small_delta_adapter(tmp_path / "adapter", relative)
    bf16_base = load_encoder(EncoderSpec(name="tiny-bloom", dtype="bfloat16"))
    base = {n: m.weight.double() for n, m in bf16_base.named_modules() if isinstance(m, torch.nn.Linear)}
    target = load_encoder(EncoderSpec(name=str(tmp_path / "adapter"), dtype="bfloat16", tuning="lora", lora_rank=4))
    with torch.no_grad():
        seen = _weights_seen(target)
        assert seen.keys() == deltas.keys()
        lost = torch.stack([(seen[n] - base[n] - deltas[n]).norm() for n in deltas]).norm()
        assert lost / torch.stack([d.norm() for d in deltas.values()]).norm() < 1e-3


def test_merging_into_bf16_weights_to_fine_tune_them_fully_warns_of_the_rounding(tmp_path):
    _small_delta_adapter(tmp_path / "adapter", 1e-3)
    with pytest.warns(UserWarning, match="model.encoder.dtype=float32"):
        merged = load_encoder(EncoderSpec(name=str(tmp_path / "adapter"), dtype="bfloat16"))
    assert type(merged).__name__ == "BloomModel"
