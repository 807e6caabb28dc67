"""Multi-task training: every optimizer step draws one task, then trains on a batch of that task.

This is how jiant (which Phang et al., 2020 trained their intermediate tasks with) and T5 mix
tasks: a task is drawn with probability proportional to its training-set size, to that size
raised to 1/T (temperature), or uniformly; sizes may be capped first, so one huge task does not
crowd out the rest (T5's "examples-proportional mixing" limit K, jiant's `examples_cap`).

An epoch is as many steps as the tasks' batch counts added up (on one data-parallel rank), so
an epoch of proportional sampling trains on each task about as often as one pass over it would;
the other strategies keep that length and change the mix. A task drawn more often than it has
batches starts a fresh shuffled pass over its data. Everything random comes from the seed and
the epoch number alone, so an epoch is the same whenever it runs, and every rank draws the same
task at the same step (DDP must step every rank on the same head) while reading its own shard of
that task's features, shards padded as `DistributedSampler` pads them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from lightning_xfer.errors import UserError

SamplingStrategy = Literal["proportional", "temperature", "uniform"]


def task_probabilities(
    sizes: dict[str, int],
    strategy: SamplingStrategy = "proportional",
    temperature: float = 2.0,
    size_cap: int | None = None,
) -> dict[str, float]:
    """The chance of each task at a step: p_i ∝ min(n_i, cap) (proportional), ∝ min(n_i, cap)^(1/T)
    (temperature; T=1 is proportional, T→∞ uniform), or 1/k (uniform), for training-set sizes n_i."""
    if strategy not in ("proportional", "temperature", "uniform"):
        raise UserError(f"data.task_sampling: {strategy!r} is not one of proportional, temperature, uniform")
    if temperature <= 0:
        raise UserError(f"data.sampling_temperature must be positive, not {temperature}")
    if size_cap is not None and size_cap < 1:
        raise UserError(f"data.sampling_size_cap must be at least 1 (or null for no cap), not {size_cap}")
    empty = [name for name, size in sizes.items() if size < 1]
    if empty:
        raise UserError(f"task {empty[0]} has no training features, so it cannot be sampled; drop it from data.tasks")
    if strategy == "uniform":
        weights = {name: 1.0 for name in sizes}
    else:
        exponent = 1.0 / temperature if strategy == "temperature" else 1.0
        weights = {name: float(min(size, size_cap or size)) ** exponent for name, size in sizes.items()}
    total = sum(weights.values())
    return {name: weight / total for name, weight in weights.items()}


class TaskSampler:
    """Batches of (task, feature row) pairs for one data-parallel rank, one task per batch.

    Used as a DataLoader's `batch_sampler`; Lightning calls `set_epoch` at every epoch start.
    """

    def __init__(
        self,
        sizes: dict[str, int],
        probabilities: dict[str, float],
        batch_size: int,
        seed: int,
        rank: int = 0,
        world_size: int = 1,
    ):
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is outside a world of {world_size}")
        self.tasks = list(sizes)
        self.sizes = dict(sizes)
        self.probabilities = np.array([probabilities[name] for name in self.tasks])
        self.batch_size = batch_size
        self.seed = seed % 2**64  # numpy seeds are unsigned
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0
        self.start = 0  # batches of the epoch to pass over: those a resumed run already trained on

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def shard_size(self, task: str) -> int:
        """Features of `task` each rank reads per pass (the last ones repeat the first)."""
        return math.ceil(self.sizes[task] / self.world_size)

    def batches_per_pass(self, task: str) -> int:
        return math.ceil(self.shard_size(task) / self.batch_size)

    def __len__(self) -> int:
        return sum(self.batches_per_pass(task) for task in self.tasks)

    def task_order(self, epoch: int | None = None) -> list[str]:
        """The task of every step of `epoch` (default: the current one); the same on every rank."""
        rng = np.random.default_rng([self.seed, self.epoch if epoch is None else epoch, 0])
        draws = rng.choice(len(self.tasks), size=len(self), p=self.probabilities)
        return [self.tasks[i] for i in draws]

    def _task_batches(self, index: int, epoch: int) -> Iterator[list[int]]:
        """This rank's batches of one task's rows, pass after shuffled pass."""
        task = self.tasks[index]
        rng = np.random.default_rng([self.seed, epoch, 1 + index])  # one stream per task
        while True:
            order = np.resize(rng.permutation(self.sizes[task]), self.shard_size(task) * self.world_size)
            shard = order[self.rank :: self.world_size]
            for start in range(0, len(shard), self.batch_size):
                yield shard[start : start + self.batch_size].tolist()

    def __iter__(self) -> Iterator[list[tuple[str, int]]]:
        epoch, start = self.epoch, self.start
        streams = {task: self._task_batches(i, epoch) for i, task in enumerate(self.tasks)}
        for step, task in enumerate(self.task_order(epoch)):
            rows = next(streams[task])
            if step >= start:
                yield [(task, row) for row in rows]


class MultiTaskFeatures(Dataset):
    """Every task's training features, indexed by (task, row)."""

    def __init__(self, features: dict[str, Any]):
        self.features = features

    def __len__(self) -> int:
        return sum(len(features) for features in self.features.values())

    def __getitem__(self, key: tuple[str, int]) -> tuple[str, dict[str, Any]]:
        task, row = key
        return task, self.features[task][row]

    def __getitems__(self, keys: Sequence[tuple[str, int]]) -> list[tuple[str, dict[str, Any]]]:
        task = keys[0][0]  # a batch holds one task
        features, rows = self.features[task], [row for _, row in keys]
        read_many = getattr(features, "__getitems__", None)  # a `datasets.Dataset` reads a batch at once
        return [(task, item) for item in (read_many(rows) if read_many else [features[row] for row in rows])]


class TaskBatchCollate:
    """The sampled task's own collate function, its batch keyed by the task's name."""

    def __init__(self, collates: dict[str, Callable[[list[dict[str, Any]]], Any]]):
        self.collates = collates

    def __call__(self, items: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
        task = items[0][0]
        return {task: self.collates[task]([row for _, row in items])}


class TaskSampledLoader:
    """One epoch of task-sampled training batches, each `{task: batch}` for the drawn task.

    Not a `DataLoader`, so Lightning does not swap in a `DistributedSampler` of its own: the
    `TaskSampler` already shards by rank. Lightning still finds `sampler.set_epoch`, and saves
    `state_dict` in checkpoints, so a run resumed mid-epoch goes on with the batches it had not
    trained on yet instead of starting the epoch over.
    """

    def __init__(
        self,
        features: dict[str, Any],
        sampler: TaskSampler,
        collates: dict[str, Callable[[list[dict[str, Any]]], Any]],
        num_workers: int = 0,
    ):
        self.sampler = sampler
        self.yielded = 0  # batches of the current epoch handed out, those a resumed run skipped included
        self.trained: int | None = None
        """Batches of the epoch that reached a training step (`mark_trained`, which the DataModule calls
        as each batch goes to the device); None where nobody reports them. Lightning fetches one batch
        ahead, so a checkpoint taken after step k has seen k + 1 batches handed out: resuming at the
        handed-out count would skip a batch the uninterrupted run trained on."""
        self.resume: dict[str, int] | None = None
        self.loader = DataLoader(
            MultiTaskFeatures(features),
            batch_sampler=sampler,
            collate_fn=TaskBatchCollate(collates),
            num_workers=num_workers,
            # its own generator: a DataLoader draws a worker seed at every `iter()`, from the global
            # RNG otherwise, which would shift a resumed run's dropout masks against an uninterrupted one
            generator=torch.Generator().manual_seed(sampler.seed % 2**63),
        )

    def __len__(self) -> int:
        return len(self.sampler)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        # A generator, so the epoch is read at the first batch: Lightning creates the iterator
        # (and loads the state) before it calls `set_epoch`.
        resume, self.resume = self.resume, None
        resuming = resume is not None and resume["epoch"] == self.sampler.epoch
        self.sampler.start = self.yielded = resume["batches"] if resuming else 0
        self.trained = None
        for batch in self.loader:
            self.yielded += 1
            yield batch

    def mark_trained(self) -> None:
        """One more batch of this epoch reached a training step."""
        self.trained = (self.trained if self.trained is not None else self.sampler.start) + 1

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.sampler.epoch, "batches": self.yielded if self.trained is None else self.trained}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.resume = dict(state)
