"""Score one evaluation set: decode the collected outputs and apply the task's official metric."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from torch import Tensor

from lightning_xfer.metrics.accuracy import accuracy, accuracy_by_example
from lightning_xfer.metrics.masked_lm import masked_token_accuracy, masked_token_accuracy_by_example
from lightning_xfer.metrics.mlqa import mlqa_scores, mlqa_scores_by_example
from lightning_xfer.metrics.ranking import (
    average_precision_at_20,
    average_precision_at_20_by_example,
    reciprocal_rank_at_20,
    reciprocal_rank_at_20_by_example,
)
from lightning_xfer.metrics.seqeval_chunks import chunk_scores, chunk_scores_by_example
from lightning_xfer.metrics.squad import (
    squad_scores,
    squad_scores_by_example,
    squad_v2_scores,
    squad_v2_scores_by_example,
)
from lightning_xfer.metrics.token_accuracy import token_accuracy, token_accuracy_by_example

if TYPE_CHECKING:
    import datasets

log = logging.getLogger(__name__)

ExampleMetric = Callable[[Mapping[str, Any], Mapping[str, Any], str], dict[str, dict[str, float]]]
"""(predictions, references, language) -> {example id: its values of the metric, and "score"}."""

BY_EXAMPLE: dict[Callable, ExampleMetric] = {
    accuracy: accuracy_by_example,
    squad_scores: squad_scores_by_example,
    squad_v2_scores: squad_v2_scores_by_example,
    mlqa_scores: mlqa_scores_by_example,
    chunk_scores: chunk_scores_by_example,
    token_accuracy: token_accuracy_by_example,
    average_precision_at_20: average_precision_at_20_by_example,
    reciprocal_rank_at_20: reciprocal_rank_at_20_by_example,
    masked_token_accuracy: masked_token_accuracy_by_example,
}
"""Each corpus metric's per-example form, from the same per-example values. BUCC's `bucc_scores`
has none: it scores one mined set of sentence pairs, and no pair or sentence is an example."""


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


def example_records(eval_set: EvaluationSet, predictions: dict[str, Any]) -> list[dict[str, Any]]:
    """One record per scored example of one (task, language): its `id`, `score` (the task's primary
    metric for that example, in points) and the metric's per-example values, in reference order.

    The examples are those `score_eval_set` scores: labelled and predicted. Empty when the task's
    metric has no per-example form (BUCC, or a metric this module does not know) or none was scored.
    """
    task = eval_set.task
    by_example = BY_EXAMPLE.get(task.metric)
    if by_example is None or not predictions:
        return []
    references = task.family.references(task, eval_set.examples)
    references = {key: value for key, value in references.items() if key in predictions}
    if not references:
        return []
    return [{"id": key, **values} for key, values in by_example(predictions, references, eval_set.language).items()]
