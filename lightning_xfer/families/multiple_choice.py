"""Multiple choice: HellaSwag, CommonsenseQA, Cosmos QA, COPA/XCOPA, SIQA.

Each choice is paired with the context (and question), `<s> context question </s></s> choice </s>`,
and scored; the readers put every dataset into that shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from lightning_xfer.errors import UserError
from lightning_xfer.families.family import (
    FeatureSettings,
    TaskFamily,
    batch_is_labelled,
    column,
    map_examples,
    pad_sequences,
)
from lightning_xfer.heads import Head, MultipleChoiceHead
from lightning_xfer.heads.pooling import Pooling
from lightning_xfer.submission.formats import ChoiceJsonl, SubmissionFormat


class MultipleChoice(TaskFamily):
    """Examples: {id, context, question, choices, label (int; None or -1: unlabelled)}; predictions: the
    choice index."""

    def submission_format(self) -> SubmissionFormat:
        return ChoiceJsonl()

    def build_head(self, task, encoder: nn.Module, dropout: float, layer: int, pooling: Pooling) -> Head:
        return MultipleChoiceHead(encoder.config.hidden_size, dropout, layer, pooling)

    def featurize(self, examples, task, tokenizer, settings: FeatureSettings, training, cache_file=None):
        def encode(batch: dict[str, list], indices: list[int]) -> dict[str, list]:
            firsts, seconds = [], []
            for context, question, choices in zip(batch["context"], batch["question"], batch["choices"], strict=True):
                first = f"{context} {question}".strip() if question else context
                firsts.extend([first] * len(choices))
                seconds.extend(choices)
            encoded = tokenizer(firsts, seconds, truncation="longest_first", max_length=settings.max_length)
            grouped, at = [], 0
            for choices in batch["choices"]:
                grouped.append(encoded["input_ids"][at : at + len(choices)])
                at += len(choices)
            labels = batch["label"] if "label" in batch else [None] * len(indices)
            return {"input_ids": grouped, "labels": [_label(label) for label in labels], "example_index": indices}

        return map_examples(examples, encode, task.name, cache_file)

    def collate(self, features: Sequence[dict[str, Any]], tokenizer, training: bool = False) -> dict[str, Tensor]:
        counts = {len(f["input_ids"]) for f in features}
        if len(counts) != 1:
            raise UserError(f"examples with different numbers of choices {sorted(counts)} in one task")
        flat = [ids for f in features for ids in f["input_ids"]]
        batch = {
            "input_ids": pad_sequences(flat, tokenizer.pad_token_id),
            "attention_mask": pad_sequences([[1] * len(ids) for ids in flat], 0),
            "num_choices": torch.tensor(counts.pop()),
            "feature_index": torch.tensor([f["feature_index"] for f in features], dtype=torch.long),
        }
        if batch_is_labelled(features, training):
            batch["labels"] = torch.tensor([f["labels"] for f in features], dtype=torch.long)
        return batch

    def decode(self, task, examples, features, collected, settings) -> dict[str, int]:
        ids = column(examples, "id")
        example_index = column(features, "example_index")
        return {
            ids[example_index[int(f)]]: int(p)
            for f, p in zip(collected["feature_index"], collected["prediction"], strict=True)
        }

    def references(self, task, examples) -> dict[str, int]:
        if "label" not in examples.column_names:
            return {}
        labels = zip(column(examples, "id"), column(examples, "label"), strict=True)
        return {key: label for key, label in labels if _label(label) is not None}


def _label(label: int | None) -> int | None:
    """The choice index, or None for an unlabelled example (readers write None or -1)."""
    return None if label is None or label < 0 else label
