"""`python -m lightning_xfer plan` (memory per GPU under each strategy) and `consolidate` (a sharded
checkpoint into a `save_pretrained` encoder folder)."""

from __future__ import annotations

from lightning_xfer.scale import plan
from lightning_xfer.scale.architectures import LORA_RANK, architecture

KIND_NOTES = {
    "bidirectional": "encoder-only",
    "seq2seq-encoder": "the encoder stack of an encoder-decoder model",
    "causal": "decoder-only, used as an encoder",
}


def plan_command(
    *, encoder: str, lora_rank: int = LORA_RANK, gpus: int = 8, gpu_mem: float = 80.0, cpu_mem: float | None = None,
    nodes: int = 1, batch: int | None = None, length: int = 512, gradient_checkpointing: bool | None = None,
) -> None:  # fmt: skip
    """Per-GPU memory of fine-tuning an encoder under DDP, ZeRO-2, FSDP2, ZeRO-3 and ZeRO-3 + offload, and of
    LoRA on frozen bf16 weights (DDP, ZeRO-3), the GPUs each needs, and the config that fits.

    Args:
        encoder: xlm-roberta-{base,large,xl,xxl}, mt5-{small,base,large,xl,xxl},
            bloom-{560m,1b1,1b7,3b,7b1,176b} (offline), or a folder
        lora_rank: rank of the LoRA rows (model.encoder.lora_rank)
        gpus: GPUs per node
        gpu_mem: memory of one GPU, GiB
        cpu_mem: CPU memory of one node, GiB (unset: 512, plan.DEFAULT_CPU_MEMORY_GIB, assumed; 0: not checked)
        nodes: nodes of `--gpus` GPUs each
        batch: micro-batch per GPU (unset: each scale file's data.micro_batch_size)
        length: tokens per example (data.tasks[].max_length)
        gradient_checkpointing: count activations with / without recomputation (unset: each scale file's)
    """
    print(plan_text(encoder, gpus, gpu_mem, nodes, batch, length, gradient_checkpointing, cpu_mem, lora_rank))


def plan_text(
    encoder: str, gpus: int, gpu_mem: float, nodes: int, batch: int | None, length: int, checkpointing: bool | None,
    cpu_mem: float | None = None, lora_rank: int = LORA_RANK,
) -> str:  # fmt: skip
    """The plan as `plan` prints it; `batch` and `checkpointing` None: each scale file's; `cpu_mem`
    None: `plan.DEFAULT_CPU_MEMORY_GIB`, said to be assumed; 0: CPU memory not checked."""
    arch = architecture(encoder, lora_rank)
    memory = gpu_mem * plan.GIB
    assumed = cpu_mem is None
    cpu_mem = plan.DEFAULT_CPU_MEMORY_GIB if assumed else cpu_mem
    cpu_memory = cpu_mem * plan.GIB if cpu_mem else None
    found = plan.estimates(arch, gpus, nodes, batch, length, checkpointing)
    lines = [
        f"{encoder}: {arch.parameters:,} parameters (largest module {arch.largest_module_parameters:,}), "
        f"{arch.num_layers} layers x hidden {arch.hidden_size}, {KIND_NOTES[arch.kind]}; LoRA rank "
        f"{arch.lora_rank} on every linear layer: {arch.adapter_parameters:,} adapter parameters",
        f"on {nodes} node(s) x {gpus} GPUs of {gpu_mem:g} GiB, "
        + (f"{cpu_mem:g} GiB CPU memory per node{' (assumed; --cpu-mem to change)' * assumed}"
           if cpu_mem else "CPU memory not checked")
        + f"; {length} tokens per example, {arch.attention} attention; micro-batch and gradient checkpointing "
        + ("as each scale file sets them" if batch is None and checkpointing is None else "as given"),
        "",
        f"{'strategy':<25}{'states/GPU':>12}{'activ./GPU':>12}{'total/GPU':>12}{'fits':>6}{'GPUs needed':>13}"
        f"{'CPU/node':>11}  micro-batch, checkpointing",
    ]  # fmt: skip
    needed = {e.strategy: plan.gpus_needed(arch, e.strategy, memory, gpus, batch, length, checkpointing, cpu_memory)
              for e in found}  # fmt: skip
    for estimate in found:
        lines.append(
            f"{estimate.strategy:<25}{_gib(estimate.model_states):>12}{_gib(estimate.activations):>12}"
            f"{_gib(estimate.per_gpu):>12}{'yes' if estimate.fits(memory, cpu_memory) else 'no':>6}"
            f"{needed[estimate.strategy] or '-':>13}{_gib(estimate.cpu) if estimate.cpu else '-':>11}"
            f"  {estimate.micro_batch}, {'on' if estimate.checkpointing else 'off'}"
        )
    lines.append("")
    for label, among in (("full fine-tuning", plan.FULL), ("LoRA on frozen bf16 weights", plan.LORA)):
        chosen = plan.recommend(found, memory, cpu_memory, among)
        fewest = min(((n, s) for s in among if (n := needed[s])), default=None)
        least = f"; fewest GPUs of {gpu_mem:g} GiB: {fewest[0]} ({fewest[1]})" if fewest else ""
        if chosen is None:
            lines.append(f"{label}: nothing fits on {nodes * gpus} GPUs{least}")
        else:
            files = " ".join(f"--config {path}" for path in (plan.GPU_CONFIG, *plan.CONFIG_FILES[chosen.strategy]))
            lines.append(f"{label}: recommended {files}{least}")
    lines.append(
        "counted: bf16 mixed-precision AdamW, 16-20 B per trained parameter; DDP 20 B/param; ZeRO-2 2P + 18P/N and "
        "ZeRO-3 4L + 18P/N as DeepSpeed's estimators count them; FSDP2 16P/N + 6L; LoRA 2P (DDP) or 2P/N + 4L "
        "(ZeRO-3) frozen bf16 weights + 20A or 18A/N for the adapters; activations 34·s·b·h B/layer, + 5·a·s²·b "
        "under eager attention (2·s·b·h with checkpointing); fits = under 90% of a GPU and of a node's CPU memory "
        "(see lightning_xfer/scale/plan.py)"
    )
    return "\n".join(lines)


def _gib(value: int) -> str:
    return f"{value / plan.GIB:.1f} GiB"


def consolidate_command(checkpoint: str, *, out: str) -> None:
    """Write a checkpoint's encoder (a .ckpt file, a DeepSpeed ZeRO folder, an FSDP2 torch.distributed.checkpoint
    folder) as a save_pretrained folder, for model.encoder.name.

    Args:
        checkpoint: the checkpoint file or folder
        out: the encoder folder to write
    """
    from lightning_xfer.export import consolidate

    directory = consolidate(checkpoint, out)
    print(f"encoder of {checkpoint} written to {directory}")
