"""Multi-task training draws one task per step: its frequencies, its seeding, its data-parallel
sharding, the single-task case, and a real two-task `fit` on the tiny encoder."""

from __future__ import annotations

import csv
import math
from types import SimpleNamespace

import pytest
import torch
from helpers import cli
from pytorch_lightning.callbacks import Callback
from pytorch_lightning.strategies import DDPStrategy

from lightning_xfer.data.datamodule import XferDataModule, _check_unused_heads_allowed
from lightning_xfer.data.task_sampling import TaskSampledLoader, TaskSampler, task_probabilities
from lightning_xfer.encoder.spec import EncoderSpec
from lightning_xfer.errors import UserError
from lightning_xfer.tasks.config import TaskConfig

SIZES = {"big": 9000, "medium": 3000, "small": 1000}
TWO_TASKS = (
    '[{"name": "synthetic-topic", "validation_languages": [], "max_train_examples": 200},'
    ' {"name": "synthetic-mlm", "validation_languages": [], "max_train_examples": 200}]'
)


def sampler(sizes=SIZES, batch_size=1, seed=0, rank=0, world_size=1, **strategy) -> TaskSampler:
    return TaskSampler(sizes, task_probabilities(sizes, **strategy), batch_size, seed, rank, world_size)


def test_probabilities_worked_by_hand():
    sizes = {"a": 400, "b": 100}
    assert task_probabilities(sizes, "proportional") == {"a": 0.8, "b": 0.2}
    # T=2: sqrt(400) = 20, sqrt(100) = 10
    assert task_probabilities(sizes, "temperature", temperature=2.0) == pytest.approx({"a": 2 / 3, "b": 1 / 3})
    assert task_probabilities(sizes, "temperature", temperature=1.0) == pytest.approx({"a": 0.8, "b": 0.2})
    assert task_probabilities(sizes, "uniform") == {"a": 0.5, "b": 0.5}
    # A cap of 100 makes both tasks count 100: proportional and temperature both become uniform.
    assert task_probabilities(sizes, "proportional", size_cap=100) == {"a": 0.5, "b": 0.5}
    assert task_probabilities(sizes, "temperature", size_cap=100) == pytest.approx({"a": 0.5, "b": 0.5})
    # A cap above every size changes nothing.
    assert task_probabilities(sizes, "proportional", size_cap=10_000) == {"a": 0.8, "b": 0.2}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"strategy": "mixed"}, "data.task_sampling"),
        ({"strategy": "temperature", "temperature": 0.0}, "data.sampling_temperature"),
        ({"size_cap": 0}, "data.sampling_size_cap"),
        ({"sizes": {"a": 10, "b": 0}}, "task b has no training features"),
    ],
)
def test_sampling_settings_that_cannot_work_are_user_errors(arguments, message):
    sizes = arguments.pop("sizes", {"a": 10, "b": 5})
    with pytest.raises(UserError, match=message):
        task_probabilities(sizes, **arguments)


def test_results_rows_can_name_the_sampling():
    two = [TaskConfig(name="synthetic-topic"), TaskConfig(name="synthetic-mlm")]
    assert XferDataModule(two[:1]).sampling_description() is None  # one task: nothing is sampled
    assert XferDataModule(two).sampling_description() == "proportional"
    temperature = XferDataModule(two, task_sampling="temperature", sampling_size_cap=500, sampling_seed=3)
    assert temperature.sampling_description() == "temperature T=2.0 cap=500 seed=3"


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ({"strategy": "proportional"}, {"big": 9 / 13, "medium": 3 / 13, "small": 1 / 13}),
        # sqrt(9000) : sqrt(3000) : sqrt(1000) = 94.87 : 54.77 : 31.62
        ({"strategy": "temperature", "temperature": 2.0}, {"big": 0.5234, "medium": 0.3022, "small": 0.1745}),
        ({"strategy": "proportional", "size_cap": 2000}, {"big": 0.4, "medium": 0.4, "small": 0.2}),
        ({"strategy": "uniform"}, {"big": 1 / 3, "medium": 1 / 3, "small": 1 / 3}),
    ],
)
def test_task_frequencies_match_the_strategy(strategy, expected):
    """Over the 13,000 steps of an epoch (batch size 1), each task's share is within 5 standard
    errors sqrt(p(1-p)/n) of its probability: at most 0.022 here. A correct sampler misses that by
    chance less than once in a million epochs; any two strategies differ by 0.12 or more on some task."""
    assert task_probabilities(SIZES, **strategy) == pytest.approx(expected, abs=1e-4)
    for seed in (0, 1):
        order = sampler(seed=seed, **strategy).task_order()
        assert len(order) == sum(SIZES.values())  # an epoch: the tasks' batch counts summed
        for task, probability in expected.items():
            share = order.count(task) / len(order)
            tolerance = 5 * math.sqrt(probability * (1 - probability) / len(order))
            assert abs(share - probability) <= tolerance, (task, share, probability, tolerance)


def test_draws_repeat_with_the_seed_and_differ_with_another_seed_or_epoch():
    sizes = {"a": 50, "b": 30}
    first, again, other = sampler(sizes, 4, seed=1), sampler(sizes, 4, seed=1), sampler(sizes, 4, seed=2)
    assert list(first) == list(again)
    assert first.task_order() != other.task_order() and list(first) != list(other)
    epoch_zero = list(first)
    first.set_epoch(1)
    assert list(first) != epoch_zero and first.task_order() != first.task_order(epoch=0)
    first.set_epoch(0)
    assert list(first) == epoch_zero  # an epoch depends on the seed and its number only


def test_the_runs_seed_seeds_the_draws_unless_sampling_seed_is_set():
    two = [TaskConfig(name="synthetic-topic"), TaskConfig(name="synthetic-mlm")]
    data, pinned = XferDataModule(two), XferDataModule(two, sampling_seed=4)
    data.train_sets = pinned.train_sets = {"synthetic-topic": range(50), "synthetic-mlm": range(20)}
    expected = sampler({"synthetic-topic": 50, "synthetic-mlm": 20}, batch_size=32, seed=11).task_order()
    with torch.random.fork_rng():
        torch.manual_seed(11)  # what `seed_everything: 11` does
        assert data.task_sampler().seed == 11 and data.task_sampler().task_order() == expected
        assert pinned.task_sampler().seed == 4


def test_each_batch_is_one_task_and_a_task_drawn_past_its_data_starts_a_new_pass():
    batches = list(sampler({"a": 10, "b": 3}, batch_size=2, seed=0, strategy="uniform"))
    assert len(batches) == 5 + 2  # ceil(10/2) + ceil(3/2)
    for batch in batches:
        assert len({task for task, _ in batch}) == 1
    rows_b = [row for batch in batches for task, row in batch if task == "b"]
    assert len(rows_b) > 3  # uniform draws b about half the time: more than its one pass
    passes = [rows_b[i : i + 3] for i in range(0, len(rows_b) - 2, 3)]  # batches of 2, 1 per pass
    assert all(sorted(p) == [0, 1, 2] for p in passes)


def rows_by_rank(batches: list[list[list[tuple[str, int]]]], task: str) -> list[list[int]]:
    return [[row for batch in rank_batches for t, row in batch if t == task] for rank_batches in batches]


@pytest.mark.parametrize("sizes", [{"a": 100, "b": 36}, {"a": 101, "b": 37}])
def test_two_ranks_draw_the_same_tasks_and_read_disjoint_shards(sizes):
    ranks = [sampler(sizes, batch_size=4, seed=7, rank=rank, world_size=2) for rank in (0, 1)]
    assert len(ranks[0]) == len(ranks[1]) == 13 + 5  # ceil(ceil(101/2)/4) + ceil(ceil(37/2)/4)
    for epoch in (0, 1):
        for rank in ranks:
            rank.set_epoch(epoch)
        batches = [list(rank) for rank in ranks]
        steps = list(zip(*batches, strict=True))
        assert all(zero[0][0] == one[0][0] for zero, one in steps)  # the same task at every step
        assert all(len(zero) == len(one) for zero, one in steps)
        for task, size in sizes.items():
            shard = math.ceil(size / 2)
            zero, one = (rows[:shard] for rows in rows_by_rank(batches, task))  # within the first pass
            # Disjoint but for the padding a DistributedSampler adds to even the shards out.
            assert len(set(zero) & set(one)) <= 2 * shard - size


@pytest.mark.parametrize("size", [100, 101, 1])
def test_two_ranks_shards_of_a_pass_cover_the_task(size):
    """A lone task is drawn at every step, so an epoch is exactly one pass over it."""
    batches = [list(sampler({"a": size}, batch_size=4, seed=7, rank=rank, world_size=2)) for rank in (0, 1)]
    zero, one = rows_by_rank(batches, "a")
    assert len(zero) == len(one) == math.ceil(size / 2)
    assert set(zero) | set(one) == set(range(size))
    assert len(set(zero) & set(one)) == 2 * math.ceil(size / 2) - size


def test_a_resumed_loader_goes_on_where_the_checkpoint_left_off():
    features = {"a": [{"row": i} for i in range(30)], "b": [{"row": i} for i in range(12)]}
    collates = {task: (lambda rows, task=task: [(task, r["row"]) for r in rows]) for task in features}

    def loader() -> TaskSampledLoader:
        return TaskSampledLoader(features, sampler({"a": 30, "b": 12}, batch_size=4, seed=5), collates)

    original = loader()
    original.sampler.set_epoch(2)
    whole, partial = list(original), iter(original)
    trained = [next(partial) for _ in range(4)]
    state = original.state_dict()
    assert state == {"epoch": 2, "batches": 4}
    resumed = loader()
    resumed.load_state_dict(state)
    resumed.sampler.set_epoch(2)  # Lightning loads the state, then sets the epoch, then iterates
    assert trained + list(resumed) == whole
    assert resumed.state_dict() == {"epoch": 2, "batches": len(whole)}
    resumed.sampler.set_epoch(3)
    assert len(list(resumed)) == len(whole)  # the next epoch is whole again


def test_one_task_trains_on_every_feature_once_per_epoch_in_an_order_fixed_by_the_seed():
    """One task goes through the resumable `TaskSampledLoader` too (its position is saved in
    checkpoints): each epoch is a permutation of all features, the same for the same seed."""

    def epoch(seed: int) -> list[torch.Tensor]:
        data = XferDataModule([TaskConfig(name="synthetic-topic", max_train_examples=200)], EncoderSpec(name="tiny"))
        data.batch_size = 16
        data.setup("fit")
        torch.manual_seed(seed)  # the run's seed, which `_draw_seed` reads
        return [batch["synthetic-topic"]["input_ids"] for batch, _, _ in data.train_dataloader()]

    ours, again, other = epoch(3), epoch(3), epoch(4)
    assert len(ours) == 13 and sum(len(b) for b in ours) == 200
    assert all(torch.equal(a, b) for a, b in zip(ours, again, strict=True))
    assert not all(a.shape == b.shape and torch.equal(a, b) for a, b in zip(ours, other, strict=True))


def test_plain_ddp_is_refused_with_the_strategy_that_works():
    with pytest.raises(UserError, match="ddp_find_unused_parameters_true"):
        _check_unused_heads_allowed(SimpleNamespace(strategy=DDPStrategy()))
    _check_unused_heads_allowed(SimpleNamespace(strategy=DDPStrategy(find_unused_parameters=True)))
    _check_unused_heads_allowed(None)


class StepRecorder(Callback):
    """The tasks of each step's batch, and the task heads that got a gradient."""

    def __init__(self):
        self.batches: list[set[str]] = []
        self.gradients: list[set[str]] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.batches.append(set(batch))

    def on_after_backward(self, trainer, pl_module):
        self.gradients.append(
            {
                task
                for task, head in pl_module.heads.items()
                if any(p.grad is not None and p.grad.abs().sum() > 0 for p in head.parameters())
            }
        )


def test_two_tasks_fit_one_sampled_task_per_step(tmp_path):
    """Each step trains the drawn task's head only and logs its loss; both tasks train."""
    steps, tasks = 8, ("synthetic-topic", "synthetic-mlm")
    run = cli(
        "fit",
        "--seed_everything=0",
        "--model.encoder.name=tiny",
        f"--trainer.max_steps={steps}",
        "--trainer.log_every_n_steps=1",
        "--trainer.enable_progress_bar=false",
        "--trainer.limit_val_batches=0",
        f"--trainer.default_root_dir={tmp_path}",
        "--trainer.logger=CSVLogger",
        f"--trainer.logger.init_args.save_dir={tmp_path}",
        "--trainer.callbacks=test_task_sampling.StepRecorder",
        f"--data.tasks={TWO_TASKS}",
        "--data.task_sampling=uniform",
        "--data.batch_size=8",
    )
    recorder = next(c for c in run.trainer.callbacks if isinstance(c, StepRecorder))
    drawn = run.trainer.train_dataloader.sampler.task_order(epoch=0)[:steps]
    assert set(drawn) == set(tasks)
    assert recorder.batches == recorder.gradients == [{task} for task in drawn]
    assert run.trainer.num_training_batches == 2 * math.ceil(200 / 8)  # an epoch: both tasks' batch counts
    with next(tmp_path.glob("**/metrics.csv")).open() as handle:
        rows = list(csv.DictReader(handle))
    # Each step logs the drawn task's loss as `train/loss`; each task's own loss is its mean over the
    # steps that drew it (never a stale value repeated at the steps that did not).
    step_losses = [float(row["train/loss"]) for row in rows if row.get("train/loss")]
    assert len(step_losses) == steps
    epoch_row = next(row for row in rows if row.get(f"train/{tasks[0]}/loss"))
    for task in tasks:
        mine = [loss for loss, drawn_task in zip(step_losses, drawn, strict=True) if drawn_task == task]
        assert float(epoch_row[f"train/{task}/loss"]) == pytest.approx(sum(mine) / len(mine), rel=1e-5)
