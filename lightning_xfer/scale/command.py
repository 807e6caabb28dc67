"""`python -m lightning_xfer plan` (memory per GPU under each strategy) and `consolidate` (a sharded
checkpoint into a `save_pretrained` encoder folder)."""

from __future__ import annotations

import argparse

from lightning_xfer.scale import plan
from lightning_xfer.scale.architectures import architecture


def plan_command(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="lightning_xfer plan",
        description="Per-GPU memory of fine-tuning an encoder under DDP, ZeRO-2, FSDP2, ZeRO-3 and ZeRO-3 + "
        "offload, the GPUs each needs, and the config that fits.",
    )
    parser.add_argument("--encoder", required=True, help="xlm-roberta-{base,large,xl,xxl} (offline), or a folder")
    parser.add_argument("--gpus", type=int, default=8, help="GPUs per node")
    parser.add_argument("--gpu-mem", type=float, default=80.0, help="memory of one GPU, GiB")
    parser.add_argument("--cpu-mem", type=float, default=None, help="CPU memory of one node, GiB (checked if given)")
    parser.add_argument("--nodes", type=int, default=1)
    parser.add_argument("--batch", type=int, default=1, help="micro-batch per GPU (data.micro_batch_size)")
    parser.add_argument("--length", type=int, default=512, help="tokens per example (data.tasks[].max_length)")
    parser.add_argument("--no-gradient-checkpointing", dest="checkpointing", action="store_false",
                        help="count activations without recomputation")  # fmt: skip
    args = parser.parse_args(argv)
    print(plan_text(args.encoder, args.gpus, args.gpu_mem, args.nodes, args.batch, args.length, args.checkpointing,
                    args.cpu_mem))  # fmt: skip


def plan_text(
    encoder: str, gpus: int, gpu_mem: float, nodes: int, batch: int, length: int, checkpointing: bool,
    cpu_mem: float | None = None,
) -> str:  # fmt: skip
    arch = architecture(encoder)
    memory = gpu_mem * plan.GIB
    cpu_memory = cpu_mem * plan.GIB if cpu_mem else None
    found = plan.estimates(arch, gpus, nodes, batch, length, checkpointing)
    lines = [
        f"{encoder}: {arch.parameters:,} parameters (largest module {arch.largest_module_parameters:,}), "
        f"{arch.num_layers} layers x hidden {arch.hidden_size}",
        f"on {nodes} node(s) x {gpus} GPUs of {gpu_mem:g} GiB"
        f"{f' ({cpu_mem:g} GiB CPU memory per node)' if cpu_mem else ''}; micro-batch {batch} x {length} tokens; "
        f"gradient checkpointing {'on' if checkpointing else 'off'}",
        "",
        f"{'strategy':<25}{'states/GPU':>12}{'activ./GPU':>12}{'total/GPU':>12}{'fits':>6}{'GPUs needed':>13}"
        f"{'CPU/node':>11}",
    ]
    for estimate in found:
        needed = plan.gpus_needed(arch, estimate.strategy, memory, gpus, batch, length, checkpointing, cpu_memory)
        lines.append(
            f"{estimate.strategy:<25}{_gib(estimate.model_states):>12}{_gib(estimate.activations):>12}"
            f"{_gib(estimate.per_gpu):>12}{'yes' if estimate.fits(memory, cpu_memory) else 'no':>6}"
            f"{needed if needed else '-':>13}{_gib(estimate.cpu) if estimate.cpu else '-':>11}"
        )
    chosen = plan.recommend(found, memory, cpu_memory)
    lines.append("")
    if chosen is None:
        lines.append("nothing fits: more GPUs or nodes, a smaller micro-batch or length, or gradient checkpointing")
    else:
        lines.append(f"recommended: --config {plan.CONFIG_FILES[chosen.strategy]}")
    lines.append(
        "counted: bf16 mixed-precision AdamW; DDP 20 B/param; ZeRO-2 2P + 18P/N and ZeRO-3 4L + 18P/N as "
        "DeepSpeed's estimators count them; FSDP2 16P/N + 6L; activations 34·s·b·h B/layer (2·s·b·h with "
        "checkpointing); fits = under 90% of a GPU (see lightning_xfer/scale/plan.py)"
    )
    return "\n".join(lines)


def _gib(value: int) -> str:
    return f"{value / plan.GIB:.1f} GiB"


def consolidate_command(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="lightning_xfer consolidate",
        description="Write a checkpoint's encoder (a .ckpt file, a DeepSpeed ZeRO folder, an FSDP2 "
        "torch.distributed.checkpoint folder) as a save_pretrained folder, for model.encoder.name.",
    )
    parser.add_argument("checkpoint")
    parser.add_argument("--out", required=True, help="the encoder folder to write")
    args = parser.parse_args(argv)
    from lightning_xfer.export import consolidate

    directory = consolidate(args.checkpoint, args.out)
    print(f"encoder of {args.checkpoint} written to {directory}")
