"""Gradient accumulation from an effective batch size, so the papers' batch holds on any GPU count."""

from __future__ import annotations

from lightning_xfer.errors import UserError


def gradient_accumulation(effective_batch_size: int, micro_batch_size: int, world_size: int) -> int:
    """Micro-batches to accumulate per optimizer step so that `micro_batch_size` examples on each of
    `world_size` processes add up to `effective_batch_size` examples per step.

    An effective size that the devices cannot split evenly is an error rather than a silently
    different batch: the papers' learning rates were tuned for theirs.
    """
    per_pass = micro_batch_size * world_size
    if effective_batch_size % per_pass:
        raise UserError(
            f"data.batch_size={effective_batch_size} (examples per optimizer step) is not a multiple of "
            f"data.micro_batch_size={micro_batch_size} x {world_size} processes = {per_pass}; choose a "
            "micro_batch_size that makes it one"
        )
    return effective_batch_size // per_pass
