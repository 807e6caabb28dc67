"""The planner's estimate for each run of a study: `study status` shows what each run needs.

A run's estimate follows from its encoder entry: the model its configs or args name, the scale
config among its configs (`configs/scale/*.yaml`: the strategy), its SLURM shape (GPUs per node,
nodes), the phase's tuning (a LoRA phase counts as its strategy's LoRA counterpart, with
`configs/tuning/lora.yaml` stacked on it) and the micro-batch, gradient checkpointing
and attention its configs and args set. Counting is `scale/plan.py`'s, offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lightning_xfer.effective_config import effective_config
from lightning_xfer.errors import UserError
from lightning_xfer.study.spec import EncoderEntry, HardwareSettings, StudySpec

if TYPE_CHECKING:
    from lightning_xfer.scale.plan import RunShape

_AS_LORA = {"ddp": "lora-ddp", "deepspeed-zero3": "lora-zero3"}


def model_name(entry: EncoderEntry) -> str | None:
    """The `model.encoder.name` an encoder entry's runs load: its config files merged, then its args
    (`effective_config`, as LightningCLI composes them)."""
    files = (part for config in entry.configs if Path(config).is_file() for part in ("--config", config))
    config = effective_config(("fit", *files, *entry.args))["config"]
    name = ((config.get("model") or {}).get("encoder") or {}).get("name")
    return str(name) if name else None


def strategy_of(entry: EncoderEntry, phase: str) -> str:
    """The planner's strategy for a phase of an entry: its scale config's, with the phase's tuning."""
    from lightning_xfer.scale.plan import CONFIG_FILES, FULL

    by_file = {Path(CONFIG_FILES[strategy][0]).name: strategy for strategy in FULL}
    found = [by_file[Path(c).name] for c in entry.configs if Path(c).name in by_file]
    strategy = found[-1] if found else "ddp"
    return _AS_LORA.get(strategy, strategy) if entry.phase_tuning(phase) == "lora" else strategy


def run_shape(entry: EncoderEntry, phase: str) -> RunShape:
    """The micro-batch, gradient checkpointing and attention a phase of an entry runs with: its
    config files in order (then `configs/tuning/lora.yaml` in a LoRA phase, as the study composes
    it), then its args."""
    from lightning_xfer.scale.plan import LORA_CONFIG, config_shape

    lora = [LORA_CONFIG] if entry.phase_tuning(phase) == "lora" else []
    return config_shape((Path(c) for c in [*entry.configs, *lora] if Path(c).is_file()), entry.args)


def estimate_line(entry: EncoderEntry, phase: str, hardware: HardwareSettings) -> str:
    """One line: strategy, GPUs, micro-batch, memory per GPU, whether it fits, the fewest GPUs it needs."""
    from lightning_xfer.scale import plan
    from lightning_xfer.scale.architectures import architecture

    name = model_name(entry)
    if name is None:
        return "plan: no model.encoder.name"
    try:
        arch = architecture(name)
    except (UserError, OSError, ValueError) as error:
        return f"plan: cannot count {name} offline ({type(error).__name__})"
    strategy = strategy_of(entry, phase)
    per_node, nodes = int(entry.slurm.get("gpus_per_node", 1)), int(entry.slurm.get("nodes", 1))
    memory = hardware.gpu_memory_gib * plan.GIB
    cpu = hardware.cpu_memory_gib * plan.GIB if hardware.cpu_memory_gib else None
    shape = run_shape(entry, phase)
    batch = hardware.micro_batch or shape.micro_batch
    counted = (batch, hardware.length, shape.checkpointing)
    found = plan.estimates(arch, per_node, nodes, *counted, shape.attn_implementation)
    estimate = next(e for e in found if e.strategy == strategy)
    fewest = plan.gpus_needed(arch, strategy, memory, max(per_node, 8), *counted, cpu,
                              attn_implementation=shape.attn_implementation)  # fmt: skip
    fits = "fits" if estimate.fits(memory, cpu) else "does not fit"
    recomputed = "with" if shape.checkpointing else "without"
    return (f"plan: {strategy} on {nodes}x{per_node} GPUs, micro-batch {batch} {recomputed} gradient checkpointing, "
            f"{estimate.per_gpu / plan.GIB:.1f} of {hardware.gpu_memory_gib:g} GiB per GPU ({fits}; "
            f"fewest GPUs {fewest or '-'})")  # fmt: skip


def estimates(spec: StudySpec) -> dict[tuple[str, str], str]:
    """(encoder name, phase) -> its estimate line, for every encoder entry and phase of the study."""
    lines = {}
    for entry in spec.encoders:
        for phase in ("pretrain",) * bool(entry.pretrain) + ("intermediate", "target", "zero-shot"):
            lines[(entry.name, phase)] = estimate_line(entry, phase, spec.hardware)
            if phase == "zero-shot":  # a test-only run keeps no gradients or optimizer states
                lines[(entry.name, phase)] += ", an upper bound: evaluation only"
    return lines
