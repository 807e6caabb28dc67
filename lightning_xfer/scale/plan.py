"""Per-GPU memory of fine-tuning an encoder under each strategy, and the config that fits.

How it counts (bf16 mixed precision, AdamW; P parameters, N GPUs in all, L the largest module or
FSDP unit, b x s tokens per GPU per micro-batch, h hidden size, l layers):

- model states, DDP (Lightning `bf16-mixed`: fp32 weights and gradients, autocast copies):
  4 + 4 + 4 (DDP's gradient buckets) + 8 (Adam's two moments) = 20 bytes per parameter on every
  GPU, and every process reads the fp32 weights into CPU memory first (4P per GPU of a node);
- ZeRO-2 and ZeRO-3, as DeepSpeed's own `estimate_zero2/zero3_model_states_mem_needs` count them:
  ZeRO-2 keeps bf16 weights whole (2P) and shards 18 bytes per parameter (bf16 and fp32 gradients,
  fp32 master weights, the two moments): 2P + 18P/N; ZeRO-3 shards those too and gathers one module
  at a time: 4L + 18P/N; with CPU offload of optimizer and weights only the gathered module stays
  (4L), and CPU memory holds 18P per node (x1.5 buffers);
- FSDP2 (`scale/fsdp2.py`: fp32 shards, bf16 compute): 16P/N sharded, plus the bf16 weights of the
  unit being computed and the one prefetched and that unit's bf16 gradients: 3 x 2L; rank 0 alone
  reads the fp32 weights into CPU memory (4P);
- LoRA on frozen bf16 weights (`model.encoder.tuning: lora`, A adapter parameters: rank r on every
  linear layer of the transformer layers): only the adapters have gradients and optimizer states.
  Under DDP (`lora-ddp`: configs/scale/ddp.yaml + configs/tuning/lora.yaml) each GPU holds the
  bf16 weights whole, 2P, plus 20 bytes per adapter
  parameter (as DDP counts above); under ZeRO-3 (`lora-zero3`) the bf16 weights are sharded, 2P/N,
  plus the gathered module and the one prefetched (2 x 2L), plus 18A/N; CPU as ZeRO-3's;
- activations (bf16, Korthikanti et al. 2022): 34·s·b·h bytes per layer, plus under eager attention
  (BLOOM: transformers has no SDPA for it) the attention scores, probabilities and dropout mask that
  layer keeps, 5·a·s²·b (a heads; SDPA keeps none); with gradient checkpointing 2·s·b·h per layer
  (each layer's input) plus one layer's whole during its recomputation. b and checkpointing are each
  scale file's own (`data.micro_batch_size`, `model.encoder.gradient_checkpointing`: ddp.yaml runs
  4 without checkpointing) unless the caller sets them. LoRA needs the same activations (the backward pass
  still crosses every frozen layer to reach the adapters below it); the formula is the GPT one
  (4h feed-forward), an approximation for mT5's gated 2.5h feed-forward.
A configuration fits when model states plus activations stay under 90% of a GPU's memory (the rest
is the CUDA context, the allocator's fragmentation and communication buffers) and its CPU figure
under 90% of a node's CPU memory (`DEFAULT_CPU_MEMORY_GIB` unless told: without it, offloading
176B to CPU memory looks free).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lightning_xfer.effective_config import effective_config
from lightning_xfer.scale.architectures import Architecture

GIB = 1024**3
HEADROOM = 0.9
DEFAULT_CPU_MEMORY_GIB = 512.0
"""CPU memory of one node assumed unless told (`plan --cpu-mem`, a study's `hardware.cpu_memory_gib`):
a common 8 x 80 GB GPU node's."""
# Cheapest first: what the planner recommends is the first that fits.
FULL = ("ddp", "deepspeed-zero2", "fsdp2", "deepspeed-zero3", "deepspeed-zero3-offload")
"""Strategies of full fine-tuning (every weight trained)."""
LORA = ("lora-ddp", "lora-zero3")
"""Strategies of LoRA on frozen bf16 weights."""
STRATEGIES = FULL + LORA
GPU_CONFIG = "configs/trainer/gpu.yaml"
"""What every strategy's files stack on: GPUs, bf16 mixed precision (what the plan counts), checkpoints."""
LORA_CONFIG = "configs/tuning/lora.yaml"
"""The tuning axis: LoRA on frozen bf16 weights, stacked on any strategy's scale file."""
CONFIG_FILES: dict[str, tuple[str, ...]] = {name: (f"configs/scale/{name}.yaml",) for name in FULL}
"""Each strategy's config files, composed in order on `configs/trainer/gpu.yaml`."""
CONFIG_FILES.update({"lora-ddp": ("configs/scale/ddp.yaml", LORA_CONFIG),
                     "lora-zero3": ("configs/scale/deepspeed-zero3.yaml", LORA_CONFIG)})  # fmt: skip
_PROJECT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class RunShape:
    """What a scale file runs, as far as the activations go."""

    micro_batch: int
    """`data.micro_batch_size`: examples per GPU per forward pass (1 where the file sets none)."""
    checkpointing: bool
    """`model.encoder.gradient_checkpointing`."""
    attn_implementation: str | None = "sdpa"
    """`model.encoder.attn_implementation` (sdpa where the model class has it, else eager)."""


@cache
def strategy_shape(strategy: str) -> RunShape:
    """What `strategy`'s config files (`CONFIG_FILES`, in this repository) run."""
    return config_shape(_PROJECT / path for path in CONFIG_FILES[strategy])


def config_shape(paths: Iterable[Path], args: Iterable[str] = ()) -> RunShape:
    """The micro-batch, gradient checkpointing and attention of config files composed in order, then
    `--key=value` args, as LightningCLI composes them (`effective_config`); the defaults where none sets them."""
    command = ("fit", *(part for path in paths for part in ("--config", str(path))), *args)
    config = effective_config(command)["config"]
    data, encoder = config.get("data") or {}, (config.get("model") or {}).get("encoder") or {}
    return RunShape(
        micro_batch=int(data.get("micro_batch_size") or 1),
        checkpointing=bool(encoder.get("gradient_checkpointing", False)),
        attn_implementation=encoder.get("attn_implementation", "sdpa"),
    )


@dataclass(frozen=True)
class Estimate:
    """Bytes per GPU (and per node's CPU memory) of one strategy."""

    strategy: str
    model_states: int
    activations: int
    cpu: int
    micro_batch: int = 1
    """The micro-batch the activations are counted for."""
    checkpointing: bool = True
    """Whether they are counted with gradient checkpointing."""

    @property
    def per_gpu(self) -> int:
        return self.model_states + self.activations

    def fits(self, gpu_memory_bytes: float, cpu_memory_bytes: float | None = None) -> bool:
        cpu_fits = cpu_memory_bytes is None or self.cpu <= HEADROOM * cpu_memory_bytes
        return self.per_gpu <= HEADROOM * gpu_memory_bytes and cpu_fits


def zero2_model_states(parameters: int, gpus_per_node: int, nodes: int, cpu_offload: bool) -> tuple[int, int]:
    """(CPU bytes per node, GPU bytes per GPU) of ZeRO-2, DeepSpeed's accounting."""
    total = gpus_per_node * nodes
    if cpu_offload:
        return int(parameters * max(4 * total, 16) * 1.5), 2 * parameters
    return int(parameters * 4 * gpus_per_node * 1.5), 2 * parameters + int(18 * parameters / total)


def zero3_model_states(
    parameters: int, largest_module: int, gpus_per_node: int, nodes: int, cpu_offload: bool
) -> tuple[int, int]:
    """(CPU bytes per node, GPU bytes per GPU) of ZeRO-3 with `zero.Init` (what Lightning uses), DeepSpeed's
    accounting; `cpu_offload` offloads both optimizer states and weights."""
    total = gpus_per_node * nodes
    gathered = 4 * largest_module
    if cpu_offload:
        return int(parameters * 18 / nodes * 1.5), gathered
    return int(largest_module * 4 * gpus_per_node * 1.5), gathered + int(18 * parameters / total)


def activation_bytes(
    arch: Architecture, batch: int, length: int, checkpointing: bool, attn_implementation: str | None = None
) -> int:
    per_layer = 34 * length * batch * arch.hidden_size
    if arch.attention == "eager" or attn_implementation == "eager":  # scores and probabilities are kept
        per_layer += 5 * arch.num_heads * length * length * batch
    if checkpointing:
        return arch.num_layers * 2 * length * batch * arch.hidden_size + per_layer
    return arch.num_layers * per_layer


def estimates(
    arch: Architecture, gpus_per_node: int, nodes: int, batch: int | None, length: int, checkpointing: bool | None,
    attn_implementation: str | None = None,
) -> list[Estimate]:  # fmt: skip
    """Every strategy's per-GPU memory for `arch` on `gpus_per_node` x `nodes` GPUs; `batch`,
    `checkpointing` and `attn_implementation` where None: each strategy's scale file's."""

    def counted(strategy: str, model_states: int, cpu: int) -> Estimate:
        shape = strategy_shape(strategy)
        b = shape.micro_batch if batch is None else batch
        recomputed = shape.checkpointing if checkpointing is None else checkpointing
        attention = attn_implementation or shape.attn_implementation
        activations = activation_bytes(arch, b, length, recomputed, attention)
        return Estimate(strategy, model_states, activations, cpu, b, recomputed)

    p, total = arch.parameters, gpus_per_node * nodes
    zero2_cpu, zero2_gpu = zero2_model_states(p, gpus_per_node, nodes, cpu_offload=False)
    zero3_cpu, zero3_gpu = zero3_model_states(p, arch.largest_module_parameters, gpus_per_node, nodes, False)
    offload_cpu, offload_gpu = zero3_model_states(p, arch.largest_module_parameters, gpus_per_node, nodes, True)
    return [
        counted("ddp", 20 * p, 4 * p * gpus_per_node),
        counted("deepspeed-zero2", zero2_gpu, zero2_cpu),
        counted("fsdp2", int(16 * p / total) + 6 * arch.largest_unit_parameters, 4 * p),
        counted("deepspeed-zero3", zero3_gpu, zero3_cpu),
        counted("deepspeed-zero3-offload", offload_gpu, offload_cpu),
        *(counted(*states) for states in lora_model_states(arch, gpus_per_node, nodes)),
    ]


def lora_model_states(arch: Architecture, gpus_per_node: int, nodes: int) -> list[tuple[str, int, int]]:
    """(strategy, GPU bytes per GPU, CPU bytes per node) of LoRA on frozen bf16 weights: replicated
    under DDP, sharded under ZeRO-3 (see the module's docstring)."""
    p, a, largest, total = (
        arch.parameters,
        arch.adapter_parameters,
        arch.largest_module_parameters,
        gpus_per_node * nodes,
    )
    return [
        ("lora-ddp", 2 * p + 20 * a, 2 * p * gpus_per_node),
        ("lora-zero3", int(2 * p / total) + 4 * largest + int(18 * a / total), int(largest * 4 * gpus_per_node * 1.5)),
    ]


def gpus_needed(
    arch: Architecture, strategy: str, gpu_memory_bytes: float, gpus_per_node: int, batch: int | None, length: int,
    checkpointing: bool | None, cpu_memory_bytes: float | None = None, most: int = 4096,
    attn_implementation: str | None = None,
) -> int | None:  # fmt: skip
    """The fewest GPUs (whole nodes of `gpus_per_node` beyond one node) on which `strategy` fits
    (`cpu_memory_bytes` None: CPU memory unchecked)."""
    counts = [n for n in (1, 2, 4, 8) if n < gpus_per_node] + list(range(gpus_per_node, most + 1, gpus_per_node))
    for count in counts:
        per_node, nodes = (count, 1) if count <= gpus_per_node else (gpus_per_node, count // gpus_per_node)
        found = next(
            e
            for e in estimates(arch, per_node, nodes, batch, length, checkpointing, attn_implementation)
            if e.strategy == strategy
        )
        if found.fits(gpu_memory_bytes, cpu_memory_bytes):
            return count
    return None


def recommend(
    found: list[Estimate], gpu_memory_bytes: float, cpu_memory_bytes: float | None = None, among: tuple = FULL
) -> Estimate | None:
    """The cheapest strategy of `among` (full fine-tuning's, or `LORA`) that fits: the least
    communication first (DDP, then ZeRO-2, which gathers no weights, then the fully sharded ones,
    then offload, which also crosses PCIe)."""
    return next((e for e in found if e.strategy in among and e.fits(gpu_memory_bytes, cpu_memory_bytes)), None)
