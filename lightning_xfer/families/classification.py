"""Sentence(-pair) classification: XNLI, PAWS-X, MNLI, ANLI, QQP, SST-2."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

import torch
from torch import Tensor, nn

from lightning_xfer.families.family import (
    FeatureSettings,
    TaskFamily,
    TaskView,
    batch_is_labelled,
    collate_inputs,
    column,
    map_examples,
    segment_ids,
)
from lightning_xfer.heads import Head, SequenceClassificationHead
from lightning_xfer.heads.pooling import Pooling
from lightning_xfer.submission.formats import LabelLines, SubmissionFormat

if TYPE_CHECKING:
    import datasets


class ClassificationExample(TypedDict, total=False):
    """One sentence or pair, as the classification readers give it (`readers/sentence_pair_tsv.py`, ...)."""

    id: str
    text: str
    text_pair: str | None
    label: str | None
    """The label's name; None: unlabelled."""
    line: int
    """The line it was read from, for errors that name it."""


class Classification(TaskFamily):
    """Examples: `ClassificationExample`; predictions: the label name."""

    def submission_format(self) -> SubmissionFormat:
        return LabelLines()

    def build_head(self, task, encoder: nn.Module, dropout: float, layer: int, pooling: Pooling) -> Head:
        return SequenceClassificationHead(encoder.config.hidden_size, len(task.labels), dropout, layer, pooling)

    def featurize(self, examples, task, tokenizer, settings: FeatureSettings, training, cache_file=None):
        label_ids = {label: i for i, label in enumerate(task.labels)}
        paired = examples[0]["text_pair"] is not None if len(examples) else False

        def encode(batch: dict[str, list], indices: list[int]) -> dict[str, list]:
            encoded = tokenizer(
                batch["text"],
                batch["text_pair"] if paired else None,
                truncation="longest_first",
                max_length=settings.max_length,
            )
            labels = batch["label"] if "label" in batch else [None] * len(indices)
            return {
                "input_ids": encoded["input_ids"],
                "labels": [None if label is None else label_ids[label] for label in labels],
                "example_index": indices,
                **segment_ids(encoded),
            }

        return map_examples(examples, encode, task.name, cache_file)

    def collate(self, features: Sequence[dict[str, Any]], tokenizer, training: bool = False) -> dict[str, Tensor]:
        batch = collate_inputs(features, tokenizer.pad_token_id)
        if batch_is_labelled(features, training):
            batch["labels"] = torch.tensor([f["labels"] for f in features], dtype=torch.long)
        return batch

    def decode(self, task, examples, features, collected, settings) -> dict[str, str]:
        ids = column(examples, "id")
        return {
            ids[int(index)]: task.labels[int(label)]
            for index, label in zip(collected["feature_index"], collected["prediction"], strict=True)
        }

    def relabel(self, example: ClassificationExample, aliases: Mapping[str, str]) -> list[str]:
        """The example's one label (none where a reader gave the example none)."""
        if "label" not in example:
            return []
        example["label"] = aliases.get(example["label"], example["label"])
        return [example["label"]]

    def references(self, task: TaskView, examples: datasets.Dataset) -> dict[str, str]:
        if "label" not in examples.column_names:
            return {}
        labels = zip(column(examples, "id"), column(examples, "label"), strict=True)
        return {key: label for key, label in labels if label is not None}
