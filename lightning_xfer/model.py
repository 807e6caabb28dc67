"""The LightningModule: one shared encoder, one head per task, per-language evaluation.

The encoder and heads are built in `configure_model`, so a sharded strategy (DeepSpeed ZeRO-3,
FSDP) can construct them already partitioned. Heads live in a `ModuleDict` keyed by task name,
so any set of tasks trains together, and an encoder trained here can start another run with
fresh heads (`encoder.name` = an exported `encoder/` folder, or `init_encoder_from` = a checkpoint).
"""

from __future__ import annotations

import dataclasses
import logging
from contextlib import contextmanager
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor, nn
from transformers import get_linear_schedule_with_warmup

from lightning_xfer.checkpoints import encoder_state
from lightning_xfer.encoder.adapters import body
from lightning_xfer.encoder.kinds import (
    EncoderKind,
    kind_of,
    position_ids_from_mask,
    sentence_pooling,
    takes_position_ids,
)
from lightning_xfer.encoder.loading import base_encoder_name, load_encoder, pretrained_pooler
from lightning_xfer.encoder.spec import EncoderSpec
from lightning_xfer.errors import UserError
from lightning_xfer.evaluation import Score, predict_eval_set, score_eval_set
from lightning_xfer.families.family import merge_collected
from lightning_xfer.heads import Head, RetrievalHead
from lightning_xfer.scale.deepspeed import is_zero3, register_tied_weights, zero3_loading
from lightning_xfer.scale.fsdp2 import receives_weights, shard_with_fsdp2
from lightning_xfer.tasks import RunTask

log = logging.getLogger(__name__)


class XferModule(pl.LightningModule):
    """Shared encoder + task heads, trained with AdamW and a linear warm-up/decay schedule."""

    def __init__(
        self,
        encoder: EncoderSpec,
        tasks: list[RunTask],
        learning_rate: float = 2e-5,
        learning_rate_by_encoder: dict[str, float] | None = None,
        weight_decay: float = 0.0,
        warmup_ratio: float = 0.1,
        adam_epsilon: float = 1e-8,
        head_dropout: float = 0.1,
        init_encoder_from: str | None = None,
    ):
        """
        Args:
            encoder: The pretrained encoder all heads share.
            tasks: The run's tasks as the DataModule resolved them from `data.tasks` (the CLI passes
                them on); one head each.
            learning_rate: Peak AdamW learning rate (XTREME: 2e-5 classification/tagging, 3e-5 QA).
            learning_rate_by_encoder: Peak learning rates for particular pretrained encoders, by hub
                name without the organisation (`xlm-roberta-large: 1.0e-5`), where the papers tune
                one per size; an exported encoder counts as the encoder its run started from. A task
                config holds both, so one task file serves every encoder size.
            weight_decay: AdamW weight decay (not applied to biases and LayerNorm weights).
            warmup_ratio: Fraction of training steps with linear warm-up; then linear decay to 0.
            adam_epsilon: AdamW epsilon.
            head_dropout: Dropout inside the task heads.
            init_encoder_from: A Lightning checkpoint whose `encoder.*` weights replace the
                pretrained ones before training (the intermediate -> target hand-off); heads stay new.
        """
        super().__init__()
        # Plain values only, so checkpoints load with `weights_only=True` (LightningCLI also reads
        # them back as `model` arguments): the spec as a dict; the tasks come from `data.tasks`,
        # which the run's config.yaml records.
        self.save_hyperparameters(ignore=["encoder", "tasks"])
        self.hparams["encoder"] = dataclasses.asdict(encoder)
        self.encoder_spec = encoder
        self.run_tasks = list(tasks)
        self.tasks = {r.name: r.task for r in self.run_tasks}
        self.encoder: nn.Module | None = None
        self.encoder_kind: EncoderKind = "bidirectional"
        self._positions_from_mask = False
        self.heads = nn.ModuleDict()
        self._collected: dict[int, list[dict[str, Tensor]]] = {}
        self.latest_scores: list[Score] = []
        self.latest_predictions: dict[tuple[str, str], dict[str, Any]] = {}

    # -- construction ---------------------------------------------------------------------------
    def configure_model(self) -> None:
        if self.encoder is not None:
            return
        strategy = self.trainer.strategy if self._trainer is not None else None
        receives = receives_weights(self)  # an FSDP2 rank other than 0: built empty, filled from rank 0
        with zero3_loading(strategy):  # under ZeRO-3, from_pretrained loads into the partitions
            self.encoder = load_encoder(self.encoder_spec, empty=receives).train()  # from_pretrained: eval mode
        self.encoder_kind = kind_of(self.encoder.config)
        self._positions_from_mask = self.encoder_kind == "causal" and takes_position_ids(body(self.encoder))
        pooling = sentence_pooling(self.encoder_spec.pooling, self.encoder_kind)
        for run_task in self.run_tasks:
            task, config = run_task.task, run_task.config
            layer = config.head_layer
            if layer is None:
                layer = task.family.default_layer(self.encoder.config)
            if layer is None:
                layer = self.encoder_spec.hidden_layer
            dropout = self.hparams.head_dropout
            head = task.family.build_head(task, self.encoder, dropout, layer, pooling)
            if isinstance(head, RetrievalHead) and head.pooling == "first" and self.encoder_kind == "causal":
                head.pooling = "last"  # the benchmark's sentence token, for a model that reads left to right
            pooled = isinstance(head, RetrievalHead) and head.pooler is not None and not receives
            if pooled and not head.load_pooler(pretrained_pooler(self.encoder_spec)):
                log.warning("%s: %s has no pretrained pooler; the head's starts at BERT's initialisation",
                            task.name, self.encoder_spec.name)  # fmt: skip
            self.heads[task.name] = head
        register_tied_weights(strategy, self.heads.values())
        if self.hparams.init_encoder_from and not receives:
            self._load_encoder_weights(self.hparams.init_encoder_from)
        if self.device_mesh is not None:  # FSDP2Strategy (ModelParallelStrategy) hands us its mesh
            shard_with_fsdp2(self, self.encoder, self.heads.values(), self.device_mesh, strategy.root_device,
                             str(self.trainer.precision))  # fmt: skip

    def _load_encoder_weights(self, path: str) -> None:
        if self._trainer is not None and is_zero3(self.trainer.strategy):
            raise UserError(
                f"model.init_encoder_from: under DeepSpeed ZeRO-3 the encoder is partitioned as it is built; "
                f"write {path}'s encoder as a folder (python -m lightning_xfer consolidate {path} --out DIR) "
                "and pass it as model.encoder.name, which loads into the partitions"
            )
        result = self.encoder.load_state_dict(encoder_state(path, "model.init_encoder_from"), strict=False)
        missing = [k for k in result.missing_keys if not k.endswith("position_ids")]
        if missing or result.unexpected_keys:
            raise UserError(
                f"model.init_encoder_from: {path} does not match encoder {self.encoder_spec.name!r} "
                f"(missing {missing[:3]}, unexpected {result.unexpected_keys[:3]})"
            )
        log.info("encoder weights loaded from %s; task heads start fresh", path)

    # -- forward ----------------------------------------------------------------------------------
    def encode(self, batch: dict[str, Tensor], layer: int, prefix: str = "") -> Tensor:
        """Hidden states of `layer` (`transformers`' `hidden_states[layer]`; -1 the last) for the
        input whose keys start with `prefix`."""
        inputs = {
            "input_ids": batch[f"{prefix}input_ids"],
            "attention_mask": batch[f"{prefix}attention_mask"],
        }
        if f"{prefix}token_type_ids" in batch:
            inputs["token_type_ids"] = batch[f"{prefix}token_type_ids"]
        if self._positions_from_mask:  # a left-padded row is then encoded exactly as it would be alone
            inputs["position_ids"] = position_ids_from_mask(inputs["attention_mask"])
        if layer == -1:
            return self.encoder(**inputs).last_hidden_state
        return self.encoder(**inputs, output_hidden_states=True).hidden_states[layer]

    def forward_task(self, task: str, batch: dict[str, Tensor]):
        """The task's head on the encoder states of every input it reads that the batch holds."""
        head: Head = self.heads[task]
        states = [self.encode(batch, head.layer, prefix) for prefix in head.inputs if f"{prefix}input_ids" in batch]
        return head(states[0], batch, *states[1:])

    # -- training -------------------------------------------------------------------------------
    def training_step(self, batch: dict[str, dict[str, Tensor]], batch_idx: int) -> Tensor:
        total = 0.0
        weights = {r.name: r.config.loss_weight for r in self.run_tasks}
        # With several tasks each step draws one (the DataModule's task sampling): a task's loss is
        # logged as its mean over the steps that drew it, not re-logged stale at the others.
        several = sum(r.task.needs_training for r in self.run_tasks) > 1
        size = 0
        for task, task_batch in batch.items():
            if task_batch is None:
                continue
            output = self.forward_task(task, task_batch)
            size = len(task_batch["input_ids"])
            self.log(f"train/{task}/loss", output.loss, batch_size=size, on_step=not several, on_epoch=several,
                     prog_bar=not several)  # fmt: skip
            total = total + weights[task] * output.loss
        if several:
            self.log("train/loss", total, batch_size=size, prog_bar=True)
        return total

    def configure_optimizers(self):
        decayed, not_decayed = parameters_by_decay(self)
        groups = [
            {"params": decayed, "weight_decay": self.hparams.weight_decay},
            {"params": not_decayed, "weight_decay": 0.0},
        ]
        groups = [group for group in groups if group["params"]]  # DeepSpeed drops empty groups
        optimizer = torch.optim.AdamW(groups, lr=self.peak_learning_rate(), eps=self.hparams.adam_epsilon)
        total = self.trainer.estimated_stepping_batches
        schedule = get_linear_schedule_with_warmup(optimizer, int(self.hparams.warmup_ratio * total), total)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

    def peak_learning_rate(self) -> float:
        """`learning_rate`, or the rate `learning_rate_by_encoder` gives this run's base encoder."""
        by_encoder = self.hparams.learning_rate_by_encoder or {}
        return by_encoder.get(base_encoder_name(self.encoder_spec.name), self.hparams.learning_rate)

    # -- evaluation -----------------------------------------------------------------------------
    def _eval_sets(self, stage: str):
        split = "validation" if stage == "validate" else "test"  # `predict` writes test predictions
        return self.trainer.datamodule.eval_sets.get(split, [])

    def _eval_step(self, stage: str, batch: dict[str, Tensor], dataloader_idx: int) -> None:
        eval_set = self._eval_sets(stage)[dataloader_idx]
        with full_precision(self.device, eval_set.task.family.evaluates_in_fp32()):
            output = self.forward_task(eval_set.task.name, batch)
        collected = eval_set.task.family.collect(batch, output, eval_set.settings)
        self._collected.setdefault(dataloader_idx, []).append(collected)

    def _gathered(self) -> dict[int, list[dict[str, Tensor]]] | None:
        """Every rank's collected outputs on rank 0 (None on the other ranks) under data parallelism.

        Each rank scores only its shard of every language, and distributed samplers repeat a few
        features to even the shards out; decoding the union, de-duplicated by feature index
        (`merge_collected`), scores every example exactly once. Only rank 0 holds the union (an
        all-gather would put every rank's outputs on every rank: world size x the embeddings of a
        retrieval corpus in host memory); it decodes, and the others receive the scores.
        """
        collected, self._collected = self._collected, {}
        if not self._distributed():
            return collected
        rank = torch.distributed.get_rank()
        everyone: list | None = [None] * self.trainer.world_size if rank == 0 else None
        torch.distributed.gather_object(collected, everyone, dst=0)
        if rank != 0:
            return None
        joined: dict[int, list[dict[str, Tensor]]] = {}
        for rank_collected in everyone:
            for index, parts in rank_collected.items():
                joined.setdefault(index, []).extend(parts)
        return joined

    def _distributed(self) -> bool:
        return self.trainer.world_size > 1 and torch.distributed.is_available() and torch.distributed.is_initialized()

    def _decoded(self, stage: str, score: bool) -> None:
        """`latest_scores` on every rank and `latest_predictions` on rank 0, from the gathered outputs."""
        collected = self._gathered()
        scores: list[Score] = []
        self.latest_predictions = {}
        if collected is not None:
            for index, eval_set in enumerate(self._eval_sets(stage)):
                merged = merge_collected(collected.get(index, []))
                if score:
                    set_scores, predictions = score_eval_set(eval_set, merged, stage)
                    scores.extend(set_scores)
                else:
                    predictions = predict_eval_set(eval_set, merged)
                self.latest_predictions[(eval_set.task.name, eval_set.language)] = predictions
        if self._distributed():
            shared = [scores]
            torch.distributed.broadcast_object_list(shared, src=0)
            scores = shared[0]
        self.latest_scores = scores

    def _eval_epoch_end(self, stage: str) -> None:
        if self.trainer.sanity_checking:
            self._gathered()  # every rank takes part in the collective, and the outputs are dropped
            return
        self._decoded(stage, score=True)
        for score in self.latest_scores:
            self.log(score.key, score.value, add_dataloader_idx=False, sync_dist=True)  # equal on every rank
        averages = _language_averages(self.latest_scores)
        for (stage, task, metric), value in averages.items():
            self.log(f"{stage}/{task}/{metric}/avg", value, add_dataloader_idx=False, sync_dist=True)
        primary = [value for (_, task, metric), value in averages.items() if metric == self.tasks[task].primary_metric]
        if primary:
            # One number for checkpoint selection: the mean over tasks of each task's primary
            # metric, averaged over the languages evaluated (`val/score`, `test/score`).
            stage = self.latest_scores[0].stage
            self.log(
                f"{stage}/score", sum(primary) / len(primary), add_dataloader_idx=False, prog_bar=True, sync_dist=True
            )

    def validation_step(self, batch, batch_idx, dataloader_idx: int = 0) -> None:
        self._eval_step("validate", batch, dataloader_idx)

    def on_validation_epoch_end(self) -> None:
        self._eval_epoch_end("validate")

    def test_step(self, batch, batch_idx, dataloader_idx: int = 0) -> None:
        self._eval_step("test", batch, dataloader_idx)

    def on_test_epoch_end(self) -> None:
        self._eval_epoch_end("test")

    def predict_step(self, batch, batch_idx, dataloader_idx: int = 0) -> None:
        self._eval_step("predict", batch, dataloader_idx)

    def on_predict_epoch_end(self) -> None:
        """Predictions only: `predict` also runs on test sets whose labels are not public."""
        self._decoded("predict", score=False)


NORM_TYPES = (nn.LayerNorm, nn.GroupNorm, nn.RMSNorm, nn.modules.batchnorm._BatchNorm)


@contextmanager
def full_precision(device: torch.device, enabled: bool):
    """Autocast off (float32 where the weights are) when `enabled`: XTREME embeds retrieval
    sentences in float32, where a `bf16-mixed` trainer would embed them in bfloat16."""
    if not enabled:
        yield
        return
    with torch.autocast(device.type, enabled=False):
        yield


def parameters_by_decay(module: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """Trainable parameters split into (decayed, not decayed), by the module that owns them.

    As the BERT/XLM-R recipes do, biases and normalisation weights are not decayed. Deciding by the
    owning module's type and the parameter's shape instead of parameter names covers every
    architecture: `nn.LayerNorm` and the custom norms of T5 (`T5LayerNorm`) or Llama/BLOOM-style
    models (`*RMSNorm`, by class name); biases and other vectors or scalars (a retrieval
    temperature) have fewer than two dimensions. Matrices, embeddings included, are decayed.
    """
    decayed, not_decayed, seen = [], [], set()
    for owner in module.modules():
        is_norm = isinstance(owner, NORM_TYPES) or "Norm" in type(owner).__name__
        for parameter in owner.parameters(recurse=False):
            if not parameter.requires_grad or id(parameter) in seen:
                continue
            seen.add(id(parameter))
            # Under ZeRO-3 a parameter's own tensor is an empty placeholder; `ds_shape` is its shape.
            dimensions = len(getattr(parameter, "ds_shape", parameter.shape))
            (not_decayed if is_norm or dimensions < 2 else decayed).append(parameter)
    return decayed, not_decayed


def _language_averages(scores: list[Score]) -> dict[tuple[str, str, str], float]:
    """(stage, task, metric) -> the mean over the task's evaluated languages (logged as
    `{stage}/{task}/{metric}/avg`)."""
    groups: dict[tuple[str, str, str], list[float]] = {}
    for score in scores:
        groups.setdefault((score.stage, score.task, score.metric), []).append(score.value)
    return {key: sum(values) / len(values) for key, values in groups.items()}
