"""Per-language test scores as a W&B table, and a study's labels on the W&B run.

W&B's charts show one scalar per key (`test/panx/f1/de`, ...); comparing 40 languages across runs
is easier from one table per run, which W&B can group and filter by column. A study runner fills
the constructor arguments so runs of one study line up: group = study, job type = phase,
name = run id, tags = encoder, condition, target and seed.

W&B's run summary holds the last value of each key unless told otherwise, so a run's (and a sweep
table's) `val/score` was its last epoch's, not the one its best checkpoint was kept for: the
metric every `ModelCheckpoint` monitors is given its best (max or min, the checkpoint's `mode`) as
its summary.
"""

from __future__ import annotations

import logging

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback, ModelCheckpoint
from pytorch_lightning.loggers import WandbLogger

log = logging.getLogger(__name__)

COLUMNS = ["task", "language", "metric", "value", "examples"]


class WandbScoreTable(Callback):
    """With a `WandbLogger`: label the run, summarise its monitored metric by its best value, and
    log a table of every language's test scores."""

    def __init__(
        self,
        key: str = "test/scores",
        study: str | None = None,
        phase: str | None = None,
        run_id: str | None = None,
        encoder: str | None = None,
        condition: str | None = None,
        target: str | None = None,
        seed: int | None = None,
    ):
        """
        Args:
            key: The table's key in the run's history (W&B writes it under `files/media/table/`).
            study: The study this run belongs to; becomes the run's W&B group.
            phase: `intermediate`, `target`, ...; becomes the run's W&B job type.
            run_id: The study's name for this run; becomes the run's W&B display name.
            encoder: The run's encoder, as a tag `encoder:<name>`.
            condition: The intermediate-task condition (`none`, `squad`, ...), as a tag `condition:<name>`.
            target: The target task, as a tag `target:<name>`.
            seed: The run's seed, as a tag `seed:<n>`.
        """
        self.key = key
        self.study = study
        self.phase = phase
        self.run_id = run_id
        self.labels = {"encoder": encoder, "condition": condition, "target": target, "seed": seed}

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        logger = _wandb_logger(trainer)
        if logger is None or not trainer.is_global_zero:
            return
        run = logger.experiment
        given = {"study": self.study, "phase": self.phase, "run_id": self.run_id, **self.labels}
        config = {name: value for name, value in given.items() if value is not None}
        if config:
            run.config.update(config, allow_val_change=True)
        if self.run_id is not None:
            run.name = self.run_id
        tags = [f"{name}:{value}" for name, value in self.labels.items() if value is not None]
        if tags:
            run.tags = tuple(dict.fromkeys([*(run.tags or ()), *tags]))
        _set_group_and_job_type(run, self.study, self.phase)
        for monitor, mode in _monitored(trainer).items():
            run.define_metric(monitor, summary=mode)

    def on_test_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # `on_test_end`, not `on_test_epoch_end`: Lightning calls callbacks' epoch-end hooks before
        # the module's, and the module computes `latest_scores` in its own.
        logger = _wandb_logger(trainer)
        scores = getattr(pl_module, "latest_scores", [])
        if logger is None or not scores:
            return
        rows = [[s.task, s.language, s.metric, s.value, s.examples] for s in scores]
        logger.log_table(self.key, columns=COLUMNS, data=rows)


def _monitored(trainer: pl.Trainer) -> dict[str, str]:
    """The metrics the run's checkpoints are selected on, each with its direction (`max`, `min`)."""
    return {c.monitor: c.mode for c in trainer.checkpoint_callbacks if isinstance(c, ModelCheckpoint) and c.monitor}


def _wandb_logger(trainer: pl.Trainer) -> WandbLogger | None:
    return next((logger for logger in trainer.loggers if isinstance(logger, WandbLogger)), None)


def _set_group_and_job_type(run, group: str | None, job_type: str | None) -> None:
    """Set the run's group and job type, which W&B otherwise takes only from `wandb.init`.

    Lightning starts the W&B run before any callback hook (`_call_setup_hook` touches
    `logger.experiment` first), and `wandb.Run` has setters for `name` and `tags` but not for
    these two. Its setters update `run._settings` and republish the run record; we do the same.
    A W&B version without those internals gets a warning: pass them to the logger instead
    (`--trainer.logger.init_args.group ... --trainer.logger.init_args.job_type ...`).
    """
    wanted = {"run_group": group, "run_job_type": job_type}
    wanted = {field: value for field, value in wanted.items() if value is not None}
    try:
        if all(getattr(run._settings, field) == value for field, value in wanted.items()):
            return
        for field, value in wanted.items():
            setattr(run._settings, field, value)
        run._interface.publish_run(run)
    except AttributeError as error:
        log.warning("could not set the W&B run's group/job type after wandb.init (%s); pass them to the logger", error)
