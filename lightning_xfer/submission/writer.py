"""Write a run's predictions in the benchmark's submission layout, ready for the leaderboard and
for `python -m lightning_xfer score`."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback

from lightning_xfer.results import evaluation_directory
from lightning_xfer.submission.formats import SubmissionFormat


def submission_format(task) -> SubmissionFormat:
    """The task's declared format, or its family's usual one."""
    return task.submission if task.submission is not None else task.family.submission_format()


def submission_path(directory: Path, task, language: str) -> Path:
    return Path(directory) / task.name / f"test-{language}.{submission_format(task).extension}"


class SubmissionWriter(Callback):
    """After `predict` (and after `test` when `on_test`), write `<dirpath>/<task>/test-<lang>.<ext>`."""

    def __init__(self, dirpath: str | None = None, on_test: bool = False):
        """
        Args:
            dirpath: The submission folder; default `predictions/` in the run's directory (for a
                checkpoint: the directory of the run that trained it).
            on_test: Also write the predictions `test` scored, so `score` can check them.
        """
        self.dirpath = dirpath
        self.on_test = on_test

    def _directory(self, trainer: pl.Trainer) -> Path:
        return Path(self.dirpath) if self.dirpath else evaluation_directory(trainer) / "predictions"

    def write(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        directory = self._directory(trainer)
        for eval_set in trainer.datamodule.eval_sets.get("test", []):
            predictions = pl_module.latest_predictions.get((eval_set.task.name, eval_set.language))
            if predictions is None:
                continue
            order = list(eval_set.task.family.references(eval_set.task, eval_set.examples))
            path = submission_path(directory, eval_set.task, eval_set.language)
            submission_format(eval_set.task).write(path, predictions, order)
        print(f"predictions written to {directory}")

    def on_predict_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.write(trainer, pl_module)

    def on_test_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.on_test:
            self.write(trainer, pl_module)
