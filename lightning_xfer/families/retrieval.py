"""Sentence retrieval: Tatoeba (nearest neighbour), BUCC (margin mining), LAReQA and Mewsli-X
(ranking a candidate pool).

Evaluation embeds every sentence of both sides with the retrieval head (pooled, L2-normalised
states of a middle layer by default, as XTREME does for untrained encoders) and searches in
`decode`. Training, for the dual-encoder tasks, pairs each query with its target and uses the
other targets of the batch as negatives.

Examples carry `side` (`source` or `target`), `index` (line number) and, by mode, `relevant`
(pool: the target ids that answer a source) or `gold` and `split` (margin: BUCC's aligned target
id, and `dev`/`test`; the dev half only tunes the mining threshold).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import Tensor, nn

from lightning_xfer.families.bitext_mining import best_threshold, mine
from lightning_xfer.families.family import (
    FeatureSettings,
    TaskFamily,
    collate_inputs,
    column,
    map_examples,
    pad_sequences,
)
from lightning_xfer.heads import Head, HeadOutput, RetrievalHead
from lightning_xfer.heads.pooling import Pooling


def middle_layer(num_layers: int) -> int:
    """XTREME's retrieval layer: 7 of 12 (base models), 13 of 24 (large); half the depth plus one."""
    return num_layers // 2 + 1


@dataclass(frozen=True)
class Retrieval(TaskFamily):
    """Examples: {id, text, side, index, ...}; predictions by `mode`:

    - `nearest`: the index of each source's nearest target (Tatoeba);
    - `pool`: each source's top-20 target ids (LAReQA, Mewsli-X);
    - `margin`: the mined (source id, target id) pairs, {"pairs": set} (BUCC).
    """

    pooling: Pooling = "mean"
    """How a sentence becomes one vector; the task's own choice, not the encoder's `pooling`."""
    mode: Literal["nearest", "pool", "margin"] = "nearest"
    neighbours: int = 4
    """k of the ratio margin (`margin` mode)."""
    search_batch: int = 4096
    """Source rows scored against all targets at once; bounds memory for large corpora."""

    def default_layer(self, encoder_config) -> int | None:
        return middle_layer(encoder_config.num_hidden_layers)

    def build_head(self, task, encoder: nn.Module, dropout: float, layer: int, pooling: Pooling) -> Head:
        return RetrievalHead(pooling=self.pooling, layer=layer)

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

        return map_examples(examples, encode, task.name, cache_file)

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
        example_of_feature = column(features, "example_index")
        rows = sorted(
            range(len(collected["feature_index"])),
            key=lambda r: example_of_feature[int(collected["feature_index"][r])],
        )
        ids, sides, indices = column(examples, "id"), column(examples, "side"), column(examples, "index")
        grouped: dict[str, tuple[list[str], list[int], list[Tensor]]] = {}
        for row in rows:
            example = example_of_feature[int(collected["feature_index"][row])]
            side = grouped.setdefault(sides[example], ([], [], []))
            side[0].append(ids[example])
            side[1].append(indices[example])
            side[2].append(collected["embedding"][row])
        return {name: (i, x, torch.stack(v)) for name, (i, x, v) in grouped.items()}

    def decode(self, task, examples, features, collected, settings) -> dict[str, Any]:
        sides = self.embeddings(examples, features, collected)
        if self.mode == "margin":
            return self._mine(examples, sides)
        source_ids, _, sources = sides["source"]
        target_ids, target_index, targets = sides["target"]
        predictions = {}
        for start in range(0, len(sources), self.search_batch):
            scores = sources[start : start + self.search_batch] @ targets.T
            if self.mode == "nearest":
                for row, column in enumerate(scores.argmax(-1).tolist(), start=start):
                    predictions[source_ids[row]] = target_index[column]
            else:
                top = scores.topk(min(20, scores.shape[1]), dim=-1).indices.tolist()
                for row, columns in enumerate(top, start=start):
                    predictions[source_ids[row]] = [target_ids[c] for c in columns]
        return predictions

    def _mine(self, examples, sides) -> dict[str, set]:
        """BUCC: tune the margin threshold on the dev half's gold pairs, then mine the test half."""
        gold = self._gold(examples)
        threshold = 0.0
        if "dev-source" in sides and gold["dev"]:
            dev = self._mined(sides["dev-source"], sides["dev-target"])
            threshold = best_threshold(dev, gold["dev"])
        test = self._mined(sides["source"], sides["target"])
        return {"pairs": {(s, t) for score, s, t in test if score > threshold}}

    def _mined(self, source, target) -> list[tuple[float, str, str]]:
        matched = mine(source[2], target[2], k=self.neighbours, block=self.search_batch)
        return [(score, source[0][s], target[0][t]) for score, s, t in matched]

    def _gold(self, examples) -> dict[str, set]:
        gold = {"dev": set(), "test": set()}
        for identifier, side, aligned in zip(
            column(examples, "id"), column(examples, "side"), column(examples, "gold"), strict=True
        ):
            if aligned and side.endswith("source"):
                gold["dev" if side.startswith("dev") else "test"].add((identifier, aligned))
        return gold

    def references(self, task, examples) -> dict[str, Any]:
        if self.mode == "margin":
            return {"pairs": self._gold(examples)["test"]}
        sources = [i for i, side in enumerate(column(examples, "side")) if side == "source"]
        ids = column(examples, "id")
        if self.mode == "pool":
            relevant = column(examples, "relevant")
            return {ids[i]: relevant[i] for i in sources}
        index = column(examples, "index")
        return {ids[i]: index[i] for i in sources}
