"""The LightningModule: one shared encoder, one head per task, per-language evaluation.

The encoder and heads are built in `configure_model`, so a sharded strategy (DeepSpeed ZeRO-3,
FSDP) can construct them already partitioned. Heads live in a `ModuleDict` keyed by task name,
so any set of tasks trains together, and an encoder trained here can start another run with
fresh heads (`encoder.name` = an exported `encoder/` folder, or `init_encoder_from` = a checkpoint).
"""

from __future__ import annotations

import logging
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor, nn
from transformers import get_linear_schedule_with_warmup

from lightning_xfer.checkpoints import encoder_state
from lightning_xfer.data.family import merge_collected
from lightning_xfer.data.task_config import TaskConfig
from lightning_xfer.encoder.loading import load_encoder
from lightning_xfer.encoder.spec import EncoderSpec
from lightning_xfer.errors import UserError
from lightning_xfer.evaluation import Score, predict_eval_set, score_eval_set
from lightning_xfer.heads import RetrievalHead
from lightning_xfer.tasks import expand_groups, resolve_task

log = logging.getLogger(__name__)


class XferModule(pl.LightningModule):
    """Shared encoder + task heads, trained with AdamW and a linear warm-up/decay schedule."""

    def __init__(
        self,
        encoder: EncoderSpec,
        tasks: list[TaskConfig],
        learning_rate: float = 2e-5,
        weight_decay: float = 0.0,
        warmup_ratio: float = 0.1,
        adam_epsilon: float = 1e-8,
        head_dropout: float = 0.1,
        init_encoder_from: str | None = None,
    ):
        """
        Args:
            encoder: The pretrained encoder all heads share.
            tasks: The run's tasks (the CLI copies `data.tasks` here); one head each.
            learning_rate: Peak AdamW learning rate (XTREME: 2e-5 classification/tagging, 3e-5 QA).
            weight_decay: AdamW weight decay (not applied to biases and LayerNorm weights).
            warmup_ratio: Fraction of training steps with linear warm-up; then linear decay to 0.
            adam_epsilon: AdamW epsilon.
            head_dropout: Dropout inside the task heads.
            init_encoder_from: A Lightning checkpoint whose `encoder.*` weights replace the
                pretrained ones before training (the intermediate -> target hand-off); heads stay new.
        """
        super().__init__()
        self.save_hyperparameters()
        self.encoder_spec = encoder
        self.task_configs = expand_groups(list(tasks))
        self.tasks = {c.name: resolve_task(c) for c in self.task_configs}
        self.encoder: nn.Module | None = None
        self.heads = nn.ModuleDict()
        self._collected: dict[int, list[dict[str, Tensor]]] = {}
        self.latest_scores: list[Score] = []
        self.latest_predictions: dict[tuple[str, str], dict[str, Any]] = {}

    # -- construction ---------------------------------------------------------------------------
    def configure_model(self) -> None:
        if self.encoder is not None:
            return
        self.encoder = load_encoder(self.encoder_spec).train()  # from_pretrained returns eval mode
        hidden_size = self.encoder.config.hidden_size
        for config in self.task_configs:
            task = self.tasks[config.name]
            head = task.family.build_head(task, hidden_size, self.hparams.head_dropout, self.encoder)
            if config.head_layer is not None:
                head.hidden_layer = config.head_layer
            self.heads[config.name] = head
        if self.hparams.init_encoder_from:
            self._load_encoder_weights(self.hparams.init_encoder_from)

    def _load_encoder_weights(self, path: str) -> None:
        result = self.encoder.load_state_dict(encoder_state(path, "model.init_encoder_from"), strict=False)
        missing = [k for k in result.missing_keys if not k.endswith("position_ids")]
        if missing or result.unexpected_keys:
            raise UserError(
                f"model.init_encoder_from: {path} does not match encoder {self.encoder_spec.name!r} "
                f"(missing {missing[:3]}, unexpected {result.unexpected_keys[:3]})"
            )
        log.info("encoder weights loaded from %s; task heads start fresh", path)

    # -- forward ----------------------------------------------------------------------------------
    def encode(self, batch: dict[str, Tensor], layer: int | None = None, prefix: str = "") -> Tensor:
        """Hidden states of `layer` (default: the encoder spec's) for the inputs named with `prefix`."""
        layer = self.encoder_spec.hidden_layer if layer is None else layer
        inputs = {
            "input_ids": batch[f"{prefix}input_ids"],
            "attention_mask": batch[f"{prefix}attention_mask"],
        }
        if f"{prefix}token_type_ids" in batch:
            inputs["token_type_ids"] = batch[f"{prefix}token_type_ids"]
        if layer == -1:
            return self.encoder(**inputs).last_hidden_state
        return self.encoder(**inputs, output_hidden_states=True).hidden_states[layer]

    def forward_task(self, task: str, batch: dict[str, Tensor]):
        head = self.heads[task]
        layer = getattr(head, "hidden_layer", None)
        if isinstance(head, RetrievalHead):
            hidden = self.encode(batch, layer)
            target = self.encode(batch, layer, prefix="target_") if "target_input_ids" in batch else None
            return head(hidden, batch, target)
        return head(self.encode(batch, layer), batch)

    # -- training -------------------------------------------------------------------------------
    def training_step(self, batch: dict[str, dict[str, Tensor]], batch_idx: int) -> Tensor:
        total = 0.0
        weights = {c.name: c.loss_weight for c in self.task_configs}
        for task, task_batch in batch.items():
            if task_batch is None:
                continue
            output = self.forward_task(task, task_batch)
            self.log(f"train/{task}/loss", output.loss, batch_size=len(task_batch["input_ids"]), prog_bar=True)
            total = total + weights[task] * output.loss
        return total

    def configure_optimizers(self):
        no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight", "LayerNorm.bias")
        parameters = [(n, p) for n, p in self.named_parameters() if p.requires_grad]
        groups = [
            {
                "params": [p for n, p in parameters if not n.endswith(no_decay)],
                "weight_decay": self.hparams.weight_decay,
            },
            {"params": [p for n, p in parameters if n.endswith(no_decay)], "weight_decay": 0.0},
        ]
        optimizer = torch.optim.AdamW(groups, lr=self.hparams.learning_rate, eps=self.hparams.adam_epsilon)
        total = self.trainer.estimated_stepping_batches
        schedule = get_linear_schedule_with_warmup(optimizer, int(self.hparams.warmup_ratio * total), total)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

    # -- evaluation -----------------------------------------------------------------------------
    def _eval_sets(self, stage: str):
        split = "validation" if stage == "validate" else "test"  # `predict` writes test predictions
        return self.trainer.datamodule.eval_sets.get(split, [])

    def _eval_step(self, stage: str, batch: dict[str, Tensor], dataloader_idx: int) -> None:
        eval_set = self._eval_sets(stage)[dataloader_idx]
        output = self.forward_task(eval_set.task.name, batch)
        self._collected.setdefault(dataloader_idx, []).append(eval_set.task.family.collect(batch, output))

    def _gathered(self) -> dict[int, list[dict[str, Tensor]]]:
        """This rank's collected outputs, joined with every other rank's under data parallelism.

        Each rank scores only its shard of every language, and distributed samplers repeat a few
        features to even the shards out; decoding the union, de-duplicated by feature index
        (`merge_collected`), scores every example exactly once.
        """
        collected, self._collected = self._collected, {}
        if self.trainer.world_size == 1 or not torch.distributed.is_initialized():
            return collected
        everyone: list = [None] * self.trainer.world_size
        torch.distributed.all_gather_object(everyone, collected)
        joined: dict[int, list[dict[str, Tensor]]] = {}
        for rank_collected in everyone:
            for index, parts in rank_collected.items():
                joined.setdefault(index, []).extend(parts)
        return joined

    def _eval_epoch_end(self, stage: str) -> None:
        collected = self._gathered()
        if self.trainer.sanity_checking:
            return
        self.latest_scores, self.latest_predictions = [], {}
        for index, eval_set in enumerate(self._eval_sets(stage)):
            merged = merge_collected(collected.get(index, []))
            scores, predictions = score_eval_set(eval_set, merged, stage)
            self.latest_scores.extend(scores)
            self.latest_predictions[(eval_set.task.name, eval_set.language)] = predictions
        for score in self.latest_scores:
            self.log(score.key, score.value, add_dataloader_idx=False, sync_dist=True)  # equal on every rank
        averages = _language_averages(self.latest_scores)
        for key, value in averages.items():
            self.log(key, value, add_dataloader_idx=False, sync_dist=True)
        primary = [averages[k] for k in averages if k.split("/")[2] == self.tasks[k.split("/")[1]].primary_metric]
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
        collected = self._gathered()
        self.latest_scores = []
        self.latest_predictions = {
            (eval_set.task.name, eval_set.language): predict_eval_set(eval_set, merge_collected(collected.get(i, [])))
            for i, eval_set in enumerate(self._eval_sets("predict"))
        }


def _language_averages(scores: list[Score]) -> dict[str, float]:
    """`{stage}/{task}/{metric}/avg`: the mean over a task's evaluated languages."""
    groups: dict[str, list[float]] = {}
    for score in scores:
        groups.setdefault(score.key.rsplit("/", 1)[0] + "/avg", []).append(score.value)
    return {key: sum(values) / len(values) for key, values in groups.items()}
