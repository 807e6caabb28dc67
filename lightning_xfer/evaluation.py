"""Score one evaluation set: decode the collected outputs and apply the task's official metric."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from torch import Tensor

if TYPE_CHECKING:
    import datasets

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Score:
    """One (stage, task, language, metric) value, with how many examples it covers."""

    stage: str
    task: str
    language: str
    metric: str
    value: float
    examples: int

    @property
    def key(self) -> str:
        """The logged name: `{stage}/{task}/{metric}/{language}`."""
        return f"{self.stage}/{self.task}/{self.metric}/{self.language}"


class EvaluationSet(Protocol):
    """What scoring reads of one evaluation set (`lightning_xfer.data.datamodule.EvalSet`); named
    here rather than imported, as the data module sits above the results that import this module."""

    task: Any
    """The catalogue's task: its `family`, `metric` and `name`."""
    language: str
    examples: datasets.Dataset
    features: datasets.Dataset
    settings: Any
    """The set's `FeatureSettings`."""


def predict_eval_set(eval_set: EvaluationSet, collected: dict[str, Tensor]) -> dict[str, Any]:
    """One prediction per evaluated example of one (task, language)."""
    task = eval_set.task
    return task.family.decode(task, eval_set.examples, eval_set.features, collected, eval_set.settings)


def score_eval_set(
    eval_set: EvaluationSet, collected: dict[str, Tensor], stage: str
) -> tuple[list[Score], dict[str, Any]]:
    """Scores and per-example predictions of one (task, language).

    When only part of the set was evaluated (`limit_val_batches`, `limit_test_batches`), the score
    covers the examples that were, and a warning says how many of how many. Examples without a
    label (a test file whose labels are not public) are predicted and left out of the score; a set
    without any label gets predictions only.
    """
    task = eval_set.task
    family = task.family
    stage_name = "val" if stage == "validate" else stage
    if not collected:
        log.warning("%s/%s/%s: no batches were evaluated", stage_name, task.name, eval_set.language)
        return [], {}
    predictions = predict_eval_set(eval_set, collected)
    references = family.references(task, eval_set.examples)
    unlabelled = sum(key not in references for key in predictions)
    if unlabelled:
        log.warning(
            "%s/%s/%s: %d of %d predicted examples have no label; they are not scored",
            stage_name,
            task.name,
            eval_set.language,
            unlabelled,
            len(predictions),
        )
    if not references:
        return [], predictions
    if len(predictions) < len(references):
        log.warning(
            "%s/%s/%s: scored on the %d of %d examples that were evaluated",
            stage_name,
            task.name,
            eval_set.language,
            len(predictions),
            len(references),
        )
        references = {key: value for key, value in references.items() if key in predictions}
    values = task.metric(predictions, references, eval_set.language)
    scores = [
        Score(stage_name, task.name, eval_set.language, metric, value, len(references))
        for metric, value in values.items()
    ]
    return scores, predictions
