"""Sentence retrieval: Tatoeba (nearest neighbour), BUCC (margin mining), LAReQA, Mewsli-X.

Evaluation embeds every sentence of both sides with the retrieval head (pooled, L2-normalised
states of a middle layer by default, as XTREME does for untrained encoders) and searches in
`decode`. Training, for the dual-encoder tasks, pairs each query with its target and uses the
other targets of the batch as negatives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import Tensor, nn

from lightning_xfer.data.family import FeatureSettings, TaskFamily, collate_inputs, pad_sequences
from lightning_xfer.heads import HeadOutput, RetrievalHead


def middle_layer(num_layers: int) -> int:
    """XTREME's retrieval layer: 7 of 12 (base models), 13 of 24 (large); half the depth plus one."""
    return num_layers // 2 + 1


@dataclass(frozen=True)
class Retrieval(TaskFamily):
    """Examples: {id, text, side (source|target), index}; predictions: the nearest target's index."""

    pooling: Literal["mean", "cls"] = "mean"
    search_batch: int = 4096
    """Source rows scored against all targets at once; bounds memory for large corpora."""

    def build_head(self, task, hidden_size: int, dropout: float, encoder: nn.Module) -> nn.Module:
        return RetrievalHead(pooling=self.pooling, hidden_layer=middle_layer(encoder.config.num_hidden_layers))

    def featurize(self, examples, task, tokenizer, settings: FeatureSettings, training, cache_file=None):
        def encode(batch: dict[str, list], indices: list[int]) -> dict[str, list]:
            if training:
                queries = tokenizer(batch["query"], truncation=True, max_length=settings.max_length)
                targets = tokenizer(batch["target"], truncation=True, max_length=settings.max_length)
                return {
                    "input_ids": queries["input_ids"],
                    "target_input_ids": targets["input_ids"],
                    "example_index": indices,
                }
            encoded = tokenizer(batch["text"], truncation=True, max_length=settings.max_length)
            return {"input_ids": encoded["input_ids"], "example_index": indices}

        return examples.map(
            encode, batched=True, with_indices=True, remove_columns=examples.column_names,
            cache_file_name=cache_file, load_from_cache_file=cache_file is not None,
            desc=f"tokenising {task.name}",
        )  # fmt: skip

    def collate(self, features: Sequence[dict[str, Any]], tokenizer, training: bool = False) -> dict[str, Tensor]:
        batch = collate_inputs(features, tokenizer.pad_token_id)
        if "target_input_ids" in features[0]:
            targets = [f["target_input_ids"] for f in features]
            batch["target_input_ids"] = pad_sequences(targets, tokenizer.pad_token_id)
            batch["target_attention_mask"] = pad_sequences([[1] * len(t) for t in targets], 0)
        return batch

    def collect(self, batch: dict[str, Tensor], output: HeadOutput) -> dict[str, Tensor]:
        return {"feature_index": batch["feature_index"].cpu(), "embedding": output.logits.float().cpu()}

    def embeddings(self, examples, features, collected) -> dict[str, tuple[list[str], list[int], Tensor]]:
        """Per side: example ids, their `index` values and their embeddings, in example order."""
        example_of_feature = features["example_index"]
        rows = sorted(
            range(len(collected["feature_index"])),
            key=lambda r: example_of_feature[int(collected["feature_index"][r])],
        )
        ids, sides, indices = examples["id"], examples["side"], examples["index"]
        grouped: dict[str, tuple[list[str], list[int], list[Tensor]]] = {}
        for row in rows:
            example = example_of_feature[int(collected["feature_index"][row])]
            side = grouped.setdefault(sides[example], ([], [], []))
            side[0].append(ids[example])
            side[1].append(indices[example])
            side[2].append(collected["embedding"][row])
        return {name: (i, x, torch.stack(v)) for name, (i, x, v) in grouped.items()}

    def decode(self, task, examples, features, collected, settings) -> dict[str, int]:
        sides = self.embeddings(examples, features, collected)
        source_ids, _, sources = sides["source"]
        _, target_index, targets = sides["target"]
        predictions = {}
        for start in range(0, len(sources), self.search_batch):
            nearest = (sources[start : start + self.search_batch] @ targets.T).argmax(-1)
            for row, column in enumerate(nearest.tolist(), start=start):
                predictions[source_ids[row]] = target_index[column]
        return predictions

    def references(self, task, examples) -> dict[str, int]:
        return {
            i: index
            for i, side, index in zip(examples["id"], examples["side"], examples["index"], strict=True)
            if side == "source"
        }
