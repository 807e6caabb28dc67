"""The planner's estimate for each run of a study: `study status` shows what each run needs.

A run's estimate follows from its encoder entry: the model its configs or args name, the scale
config among its configs (`configs/scale/*.yaml`: the strategy), its SLURM shape (GPUs per node,
nodes) and the phase's tuning (a LoRA phase under a full fine-tuning config counts as that
strategy's LoRA counterpart, and the other way round). Counting is `scale/plan.py`'s, offline.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from lightning_xfer.errors import UserError
from lightning_xfer.study.spec import EncoderEntry, HardwareSettings, StudySpec

_AS_LORA = {"ddp": "lora-ddp", "deepspeed-zero3": "lora-zero3"}
_AS_FULL = {lora: full for full, lora in _AS_LORA.items()}


def model_name(entry: EncoderEntry) -> str | None:
    """The `model.encoder.name` an encoder entry's runs load (args win over configs, as on the CLI)."""
    names = [a.split("=", 1)[1] for a in entry.args if a.startswith("--model.encoder.name=")]
    if names:
        return names[-1]
    for config in reversed(entry.configs):
        if Path(config).is_file():
            document = yaml.safe_load(Path(config).read_text()) or {}
            name = ((document.get("model") or {}).get("encoder") or {}).get("name")
            if name:
                return str(name)
    return None


def strategy_of(entry: EncoderEntry, phase: str) -> str:
    """The planner's strategy for a phase of an entry: its scale config's, adjusted to the tuning."""
    from lightning_xfer.scale.plan import CONFIG_FILES

    by_file = {Path(path).name: strategy for strategy, path in CONFIG_FILES.items()}
    found = [by_file[Path(c).name] for c in entry.configs if Path(c).name in by_file]
    strategy = found[-1] if found else "ddp"
    lora = entry.phase_tuning(phase) == "lora"
    return _AS_LORA.get(strategy, strategy) if lora else _AS_FULL.get(strategy, strategy)


def estimate_line(entry: EncoderEntry, phase: str, hardware: HardwareSettings) -> str:
    """One line: strategy, GPUs, memory per GPU, whether it fits, and the fewest GPUs it needs."""
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
    found = plan.estimates(arch, per_node, nodes, hardware.micro_batch, hardware.length, True)
    estimate = next(e for e in found if e.strategy == strategy)
    fewest = plan.gpus_needed(arch, strategy, memory, max(per_node, 8), hardware.micro_batch, hardware.length,
                              True, cpu)  # fmt: skip
    fits = "fits" if estimate.fits(memory, cpu) else "does not fit"
    return (f"plan: {strategy} on {nodes}x{per_node} GPUs, {estimate.per_gpu / plan.GIB:.1f} of "
            f"{hardware.gpu_memory_gib:g} GiB per GPU ({fits}; fewest GPUs {fewest or '-'})")  # fmt: skip


def estimates(spec: StudySpec) -> dict[tuple[str, str], str]:
    """(encoder name, phase) -> its estimate line, for every encoder entry and phase of the study."""
    lines = {}
    for entry in spec.encoders:
        for phase in ("pretrain",) * bool(entry.pretrain) + ("intermediate", "target", "zero-shot"):
            lines[(entry.name, phase)] = estimate_line(entry, phase, spec.hardware)
            if phase == "zero-shot":  # a test-only run keeps no gradients or optimizer states
                lines[(entry.name, phase)] += ", an upper bound: evaluation only"
    return lines
