"""FSDP2 (`torch.distributed.fsdp.fully_shard`) for the shared encoder and its heads.

Lightning's `ModelParallelStrategy` leaves the sharding to the LightningModule's `configure_model`
and hands it a device mesh; `FSDP2Strategy` is that strategy with every process on the data-parallel
axis (no tensor parallelism), which is what fine-tuning an encoder wants. The module calls
`shard_with_fsdp2` after building the encoder and heads:

- only rank 0 reads the pretrained weights; every other rank builds the architecture on the meta
  device, so no process but one holds the full model, and that one only in CPU memory (a GPU holds
  its shard and one full tensor at a time while the weights are broadcast);
- each transformer layer, the encoder and each head become FSDP2 units over the data-parallel mesh;
- rank 0's weights (encoder and freshly initialised heads) are broadcast into the shards with
  torch.distributed.checkpoint's `set_model_state_dict(broadcast_from_rank0=True)`, and the buffers a
  state dict leaves out (`position_ids`) are broadcast one by one, so nothing is left on the meta
  device for Lightning to re-initialise at random.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from pytorch_lightning.strategies import ModelParallelStrategy
from torch import nn

from lightning_xfer.encoder.loading import transformer_layers
from lightning_xfer.errors import UserError
from lightning_xfer.heads.masked_lm import MaskedLMHead


class FSDP2Strategy(ModelParallelStrategy):
    """Lightning's `ModelParallelStrategy` with one data-parallel axis over every process.

    `ModelParallelStrategy`'s "auto" puts the GPUs of a node on the tensor-parallel axis, where they
    all read the same batch; a fully sharded encoder wants every process on the data axis, each
    reading its own share of the data.
    """

    def __init__(self, save_distributed_checkpoint: bool = True, process_group_backend: str | None = None):
        """
        Args:
            save_distributed_checkpoint: Each rank writes its shard (a torch.distributed.checkpoint
                folder, which the hand-off and `consolidate` read); False gathers one file on rank 0.
            process_group_backend: `nccl` on GPUs (default there), `gloo` on CPU.
        """
        super().__init__(
            tensor_parallel_size=1,
            save_distributed_checkpoint=save_distributed_checkpoint,
            process_group_backend=process_group_backend,
        )

    def setup_environment(self) -> None:
        self._data_parallel_size = self.num_nodes * self.num_processes
        super().setup_environment()


def receives_weights(module: nn.Module) -> bool:
    """Whether this process builds its encoder empty and receives the weights from rank 0: every
    rank but 0 of an FSDP2 run."""
    return getattr(module, "device_mesh", None) is not None and torch.distributed.get_rank() != 0


def shard_with_fsdp2(
    module: nn.Module,
    encoder: nn.Module,
    heads: Iterable[nn.Module],
    mesh,
    device: torch.device,
    precision: str | None = None,
) -> None:
    """Shard `module`'s encoder (layer by layer) and heads over `mesh`'s data-parallel axis and fill
    every shard with rank 0's weights.

    `precision` is the trainer's: with `bf16-*` the unsharded parameters are cast to bfloat16 for
    compute while the shards and the gradient reduction stay float32 (FSDP2's mixed precision).
    """
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_model_state_dict
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

    heads = list(heads)
    if any(isinstance(head, MaskedLMHead) for head in heads):
        raise UserError(
            "the masked-LM head ties its output matrix to the encoder's input embeddings, which FSDP2 shards "
            "with the encoder; train MLM under DeepSpeed ZeRO (configs/scale/deepspeed-zero3.yaml) instead"
        )
    rank = torch.distributed.get_rank()
    full_state = dict(module.state_dict()) if rank == 0 else {}
    buffers_before = dict(module.named_buffers())
    policy = MixedPrecisionPolicy()
    if precision and precision.startswith("bf16"):
        policy = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32)
    data_parallel = mesh["data_parallel"] if "data_parallel" in (mesh.mesh_dim_names or ()) else mesh
    for layer in transformer_layers(encoder):
        fully_shard(layer, mesh=data_parallel, mp_policy=policy)
    fully_shard(encoder, mesh=data_parallel, mp_policy=policy)
    for head in heads:
        if any(True for _ in head.parameters()):
            fully_shard(head, mesh=data_parallel, mp_policy=policy)
    # Only shards move: rank 0's full weights stay in CPU memory and go out one tensor at a time.
    if rank == 0:
        module.to(device)
    else:
        module.to_empty(device=device)
    set_model_state_dict(module, full_state, options=StateDictOptions(full_state_dict=True, broadcast_from_rank0=True))
    _broadcast_buffers(module, buffers_before, device)


def _broadcast_buffers(module: nn.Module, buffers: dict[str, torch.Tensor], device: torch.device) -> None:
    """Rank 0's value of every buffer (the state dict leaves out non-persistent ones such as
    `position_ids`, which the other ranks built on the meta device)."""
    for name, buffer in buffers.items():
        empty = torch.empty(buffer.shape, dtype=buffer.dtype, device=device)
        value = empty if buffer.is_meta else buffer.to(device)
        torch.distributed.broadcast(value, src=0)
        owner_name, _, attribute = name.rpartition(".")
        owner = module.get_submodule(owner_name) if owner_name else module
        persistent = attribute not in owner._non_persistent_buffers_set
        owner.register_buffer(attribute, value, persistent=persistent)
