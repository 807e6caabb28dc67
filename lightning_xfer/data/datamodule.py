"""The DataModule: English training data for every task of a run, and one evaluation set per
(task, language) so that one `validate` or `test` call scores every language.

Several tasks train by drawing one task per optimizer step (`task_sampling`; see
`data/task_sampling.py`); a single task trains on plain shuffled batches."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from dataclasses import dataclass
from functools import partial
from typing import Any

import datasets
import pytorch_lightning as pl
import torch
from pytorch_lightning.strategies import DDPStrategy, DeepSpeedStrategy
from pytorch_lightning.utilities import CombinedLoader
from torch.utils.data import DataLoader

from lightning_xfer.cache import cache_dir
from lightning_xfer.data.length import length_grouped_sampler, longest_first
from lightning_xfer.data.sources import cache_key, load_split
from lightning_xfer.data.task_sampling import SamplingStrategy, TaskSampledLoader, TaskSampler, task_probabilities
from lightning_xfer.encoder.kinds import EncoderKind, word_label_position
from lightning_xfer.encoder.loading import encoder_kind, load_tokenizer
from lightning_xfer.encoder.spec import EncoderSpec
from lightning_xfer.errors import UserError
from lightning_xfer.families.family import FeatureSettings
from lightning_xfer.scale.batch_size import gradient_accumulation
from lightning_xfer.tasks import RunTask, Task, TaskConfig, resolve_tasks

log = logging.getLogger(__name__)
FEATURE_VERSION = 5  # bump when feature conversion changes, so cached features are rebuilt


@dataclass
class EvalSet:
    """One language of one task, ready to evaluate."""

    task: Task
    config: TaskConfig
    language: str
    split: str
    examples: datasets.Dataset
    features: datasets.Dataset
    settings: FeatureSettings


@functools.lru_cache(maxsize=4)  # by tokenizer object; serialising XLM-R's 250k vocabulary takes ~50 ms
def tokenizer_fingerprint(tokenizer) -> str:
    """What the tokenizer does (vocabulary, normaliser, special and added tokens), not where it was
    read from: the encoder a study's intermediate run exports carries a copy of its base tokenizer,
    so every target run after every intermediate task reuses the same cached features."""
    return hashlib.sha256(tokenizer.backend_tokenizer.to_str().encode()).hexdigest()[:16]


def default_languages(task: Task, config: TaskConfig) -> list[str]:
    """Every language of the task, or of the benchmark the config names."""
    if config.benchmark is None:
        return list(task.languages)
    if config.benchmark not in task.benchmarks:
        raise UserError(f"task {task.name} is not part of {config.benchmark!r}; it is in {list(task.benchmarks)}")
    return list(task.benchmark_languages.get(config.benchmark, task.languages))


class XferDataModule(pl.LightningDataModule):
    """Features for the tasks of a run; the tokenizer is the encoder's (the CLI links the spec)."""

    def __init__(
        self,
        tasks: list[TaskConfig],
        encoder: EncoderSpec | None = None,
        batch_size: int = 32,
        micro_batch_size: int | None = None,
        eval_batch_size: int = 64,
        doc_stride: int = 128,
        num_workers: int = 0,
        cache_features: bool = True,
        task_sampling: SamplingStrategy = "proportional",
        sampling_temperature: float = 2.0,
        sampling_size_cap: int | None = None,
        sampling_seed: int | None = None,
        sort_eval_by_length: bool = True,
        group_by_length: bool = False,
    ):
        """
        Args:
            tasks: The run's tasks; several train together on one encoder, one task per step.
            encoder: The run's encoder, whose tokenizer this uses (the CLI links `model.encoder`).
            batch_size: Training examples per batch: per device, or, when `micro_batch_size` is set,
                per optimizer step over all devices and accumulated micro-batches (the papers'
                batch size, which then holds on any number of GPUs).
            micro_batch_size: Training examples per device per forward pass; null: `batch_size`.
                When set, gradient accumulation is derived: `batch_size` / (`micro_batch_size` x
                world size) micro-batches per step (the `configs/scale/` files set it).
            eval_batch_size: Examples per evaluation batch.
            doc_stride: Long inputs (QA contexts, long sentences) are cut into windows; with a QA
                task's `qa.windows: huggingface` this is the overlap of consecutive windows, with
                `xtreme` the step between window starts (XTREME's `run_squad`). Span QA's other
                settings are each task's `qa:` (`data.tasks[i].qa`, `SpanQASettings`).
            num_workers: DataLoader worker processes.
            cache_features: Keep tokenised features on disk (in the cache) between runs.
            task_sampling: With several training tasks, how each step picks its one task (as jiant
                and T5 do): `proportional` to its training features n_i, `temperature` (p_i ∝
                n_i^(1/T)), or `uniform`. An epoch is as many steps as the tasks' batch counts summed.
            sampling_temperature: T of `temperature` sampling (1: proportional; larger: nearer uniform).
            sampling_size_cap: Count at most this many features of a task when weighing it for
                `proportional` and `temperature` (T5's mixing limit K); null: no cap.
            sampling_seed: Seed of the task draws and of each task's shuffling (several tasks only);
                null: the run's seed (`seed_everything`, read from torch's default generator).
            sort_eval_by_length: Evaluate each set's features longest first, so a batch pads to
                little more than its own inputs; scores do not change (decoding is by feature).
            group_by_length: Train a single task on batches of similar length (transformers'
                `LengthGroupedSampler`: shuffled, then sorted within mega-batches of 50 batches).
                Faster on tagging and classification, but batches hold other examples than plain
                shuffling, so results move as with another seed: off by default, as in the papers.
        """
        super().__init__()
        self.run_tasks: list[RunTask] = resolve_tasks(tasks)
        self.encoder = encoder or EncoderSpec()
        self.batch_size = batch_size
        self.micro_batch_size = micro_batch_size
        self.eval_batch_size = eval_batch_size
        self.doc_stride = doc_stride
        self.num_workers = num_workers
        self.cache_features = cache_features
        self.task_sampling = task_sampling
        self.sampling_temperature = sampling_temperature
        self.sampling_size_cap = sampling_size_cap
        self.sampling_seed = sampling_seed
        self.sort_eval_by_length = sort_eval_by_length
        self.group_by_length = group_by_length
        self.tokenizer = None
        self._encoder_kind: EncoderKind | None = None
        self.train_sets: dict[str, datasets.Dataset] = {}
        self.eval_sets: dict[str, list[EvalSet]] = {}

    def settings(self, task: Task, config: TaskConfig) -> FeatureSettings:
        return FeatureSettings(
            max_length=config.max_length or task.max_length,
            doc_stride=self.doc_stride,
            word_label=word_label_position(self.encoder_kind),
        )

    @property
    def encoder_kind(self) -> EncoderKind:
        """Bidirectional, seq2seq-encoder or causal: read once from the encoder's config."""
        if self._encoder_kind is None:
            self._encoder_kind = encoder_kind(self.encoder)
        return self._encoder_kind

    @property
    def per_device_batch_size(self) -> int:
        return self.micro_batch_size or self.batch_size

    def setup(self, stage: str) -> None:
        if self.tokenizer is None:
            self.tokenizer = load_tokenizer(self.encoder)
        if self.trainer is not None and isinstance(self.trainer.strategy, DeepSpeedStrategy):
            # DeepSpeed wants the per-GPU batch in its config; Lightning would read it off the
            # training loader's sampler, which a {task: loader} CombinedLoader does not have.
            self.trainer.strategy.config.setdefault("train_micro_batch_size_per_gpu", self.per_device_batch_size)
        if stage == "fit" and self.micro_batch_size is not None and self.trainer is not None:
            if self.trainer.accumulate_grad_batches != 1:
                raise UserError(
                    f"data.micro_batch_size={self.micro_batch_size} derives the gradient accumulation; "
                    f"drop trainer.accumulate_grad_batches={self.trainer.accumulate_grad_batches}"
                )
            steps = gradient_accumulation(self.batch_size, self.micro_batch_size, self.trainer.world_size)
            self.trainer.accumulate_grad_batches = steps  # DeepSpeed reads it when its config is built, later
            log.info("batch %d = %d per device x %d processes x %d accumulated", self.batch_size,
                     self.micro_batch_size, self.trainer.world_size, steps)  # fmt: skip
        if stage == "fit" and not self.train_sets:
            for task, config in ((r.task, r.config) for r in self.run_tasks):
                if task.needs_training:
                    self.train_sets[task.name] = self._features(task, config, "train", "en", training=True)[1]
            if not self.train_sets:
                raise UserError("none of the run's tasks has training data; use `validate` or `test`")
        if stage in ("fit", "validate") and "validation" not in self.eval_sets:
            self.eval_sets["validation"] = self._eval_sets("validation", fit=stage == "fit")
        if stage in ("test", "predict") and "test" not in self.eval_sets:
            self.eval_sets["test"] = self._eval_sets("test", fit=False, labelled=stage == "test")

    def _eval_sets(self, split: str, fit: bool, labelled: bool = True) -> list[EvalSet]:
        sets = []
        for task, config in ((r.task, r.config) for r in self.run_tasks):
            has_files = split in task.splits() or bool(config.files and split in config.files)
            held_out = split == "validation" and config.validation_holdout is not None
            if not has_files and not held_out:
                log.info("task %s has no %s split; nothing to evaluate there", task.name, split)
                continue
            languages = config.languages or default_languages(task, config)
            if fit and config.validation_languages is not None:
                languages = config.validation_languages
            if not has_files:  # only the part held out of the English training file is there
                languages = [language for language in languages if language == "en"]
            for language in languages:
                examples, features = self._features(task, config, split, language, False, labelled)
                sets.append(EvalSet(task, config, language, split, examples, features, self.settings(task, config)))
        return sets

    def _features(
        self, task: Task, config: TaskConfig, split: str, language: str, training: bool, labelled: bool = True
    ):
        if language not in task.languages and split != "train":
            raise UserError(
                f"task {task.name} has no language {language!r}; its languages: {', '.join(task.languages)}"
            )
        seed = os.environ.get("PL_GLOBAL_SEED")  # the run's seed: LightningCLI's seed_everything sets it first
        loaded = load_split(task, config, split, language, seed=int(seed) if seed else None, labelled=labelled)
        examples = datasets.Dataset.from_list(loaded.examples)
        settings = self.settings(task, config)
        cache_file = None
        if self.cache_features:
            key = cache_key(
                FEATURE_VERSION,
                task.name,
                split,
                language,
                loaded.source,
                training,
                settings,
                tokenizer_fingerprint(self.tokenizer),
                task.family.feature_fingerprint(),
                config.max_train_examples if training else config.max_eval_examples,
                config.exclude_train_ids_from,
            )
            cache_file = str(cache_dir("features") / f"{task.name}-{split}-{language}-{key}.arrow")
        features = task.family.featurize(examples, task, self.tokenizer, settings, training, cache_file)
        features = features.add_column("feature_index", list(range(len(features))))
        log.info("%s %s %s: %d examples, %d features", task.name, split, language, len(examples), len(features))
        return examples, features

    def train_dataloader(self) -> CombinedLoader:
        """Batches `{task: batch}`: one task's shuffled batches, or a task drawn per step.

        Both come from `TaskSampledLoader`, whose order is a function of (seed, epoch) and whose
        position is saved in checkpoints: a run resumed mid-epoch trains on exactly the batches an
        uninterrupted run would. Length grouping (one task only) keeps transformers' sampler, whose
        position is not saved."""
        if len(self.train_sets) == 1 and self.group_by_length:
            # Lightning shards this loader itself under data parallelism (`DistributedSampler`).
            [(name, features)] = self.train_sets.items()
            loader = DataLoader(
                features,
                batch_size=self.per_device_batch_size,
                sampler=length_grouped_sampler(features, self.per_device_batch_size, self._draw_seed()),
                num_workers=self.num_workers,
                collate_fn=self._train_collate(name),
            )
            return CombinedLoader({name: loader}, mode="max_size_cycle")
        if self.group_by_length:
            raise UserError("data.group_by_length groups one training task's batches; this run trains several")
        self._train_loader = TaskSampledLoader(
            self.train_sets,
            self.task_sampler(),
            {name: self._train_collate(name) for name in self.train_sets},
            self.num_workers,
        )
        return CombinedLoader(self._train_loader, mode="max_size_cycle")  # the `{task: batch}` dicts as they are

    def on_before_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        """Count each training batch as it goes to a step (not as it is prefetched), so a checkpoint's
        loader position is the batches trained on: see `TaskSampledLoader.trained`."""
        loader = getattr(self, "_train_loader", None)
        if loader is not None and self.trainer is not None and self.trainer.training:
            loader.mark_trained()
        return batch

    def _draw_seed(self) -> int:
        """The seed of training's random order (task draws, length grouping): `sampling_seed`, or
        the run's seed; rank 0's on every rank, as an unseeded run's ranks would differ."""
        seed = self.sampling_seed if self.sampling_seed is not None else torch.initial_seed()
        if self.trainer is not None and self.trainer.world_size > 1:
            seed = self.trainer.strategy.broadcast(seed, src=0)
        return seed

    def task_sampler(self) -> TaskSampler:
        """The step-by-step task draws for this rank, seeded alike on every rank."""
        trainer = self.trainer
        if len(self.train_sets) > 1:
            _check_unused_heads_allowed(trainer)
        sizes = {name: len(features) for name, features in self.train_sets.items()}
        probabilities = task_probabilities(sizes, self.task_sampling, self.sampling_temperature, self.sampling_size_cap)
        seed = self._draw_seed()
        rank, world_size = 0, 1
        parallel = trainer.distributed_sampler_kwargs if trainer is not None else None
        if parallel:
            rank, world_size = parallel["rank"], parallel["num_replicas"]
        elif torch.distributed.is_available() and torch.distributed.is_initialized():
            rank, world_size = torch.distributed.get_rank(), torch.distributed.get_world_size()
        log.info("training tasks drawn %s: %s", self.task_sampling, _percentages(probabilities))
        return TaskSampler(sizes, probabilities, self.per_device_batch_size, seed, rank, world_size)

    def sampling_description(self) -> str | None:
        """How the run mixes its training tasks, for results rows (`temperature T=2.0 cap=50000`);
        None when one task trains. The seed shows only when it is not the run's own."""
        if sum(r.task.needs_training for r in self.run_tasks) < 2:
            return None
        parts = [self.task_sampling]
        if self.task_sampling == "temperature":
            parts.append(f"T={self.sampling_temperature}")
        if self.task_sampling != "uniform" and self.sampling_size_cap is not None:
            parts.append(f"cap={self.sampling_size_cap}")
        if self.sampling_seed is not None:
            parts.append(f"seed={self.sampling_seed}")
        return " ".join(parts)

    def _train_collate(self, name: str):
        return partial(self._task(name).family.collate, tokenizer=self.tokenizer, training=True)

    def _task(self, name: str) -> Task:
        return next(r.task for r in self.run_tasks if r.name == name)

    def _eval_loaders(self, split: str) -> list[DataLoader]:
        return [
            DataLoader(
                eval_set.features,
                batch_size=self.eval_batch_size,
                sampler=longest_first(eval_set.features) if self.sort_eval_by_length else None,
                num_workers=self.num_workers,
                collate_fn=partial(eval_set.task.family.collate, tokenizer=self.tokenizer),
            )
            for eval_set in self.eval_sets.get(split, [])
        ]

    def val_dataloader(self) -> list[DataLoader]:
        return self._eval_loaders("validation")

    def test_dataloader(self) -> list[DataLoader]:
        return self._eval_loaders("test")

    def predict_dataloader(self) -> list[DataLoader]:
        return self._eval_loaders("test")


def _check_unused_heads_allowed(trainer: pl.Trainer | None) -> None:
    """A step trains one task's head, so plain DDP, which expects every parameter to get a
    gradient at every step, would fail at the second step with a long error about reduction."""
    strategy = trainer.strategy if trainer is not None else None
    if not isinstance(strategy, DDPStrategy) or isinstance(strategy, DeepSpeedStrategy):
        return
    if not strategy._ddp_kwargs.get("find_unused_parameters", False):
        raise UserError(
            "trainer.strategy: several training tasks train one task head per step, which DDP allows "
            "only with find_unused_parameters; use --trainer.strategy=ddp_find_unused_parameters_true"
        )


def _percentages(probabilities: dict[str, float]) -> str:
    return ", ".join(f"{name} {100 * p:.1f}%" for name, p in probabilities.items())
