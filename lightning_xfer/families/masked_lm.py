"""Masked language modelling on plain text, for the continued-MLM baseline of Phang et al. (2020).

Training masks 15% of tokens afresh in every batch (BERT's 80/10/10 rule, via transformers'
collator). Evaluation masks the same tokens every time (each feature seeded by its index, whatever batch it is
in), so masked-token accuracy is comparable between checkpoints and evaluation order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn
from transformers import DataCollatorForLanguageModeling

from lightning_xfer.errors import UserError
from lightning_xfer.families.family import FeatureSettings, TaskFamily, column, map_examples, pad_sequences
from lightning_xfer.heads import IGNORE_INDEX, Head, HeadOutput, MaskedLMHead
from lightning_xfer.heads.pooling import Pooling

MASK_PROBABILITY = 0.15


class MaskedLM(TaskFamily):
    """Examples: {id, text}; predictions: the masked-token accuracy inputs (correct, total)."""

    def build_head(self, task, encoder: nn.Module, dropout: float, layer: int, pooling: Pooling) -> Head:
        eps = getattr(encoder.config, "layer_norm_eps", 1e-5)
        return MaskedLMHead(encoder.config.hidden_size, encoder.get_input_embeddings(), eps, layer)

    def featurize(self, examples, task, tokenizer, settings: FeatureSettings, training, cache_file=None):
        if tokenizer.mask_token is None:
            raise UserError(
                f"task {task.name}: the encoder's tokenizer has no mask token, so masked-LM training cannot "
                "mask anything (decoder-only models such as BLOOM or Llama were not trained to fill masks)"
            )

        def encode(batch: dict[str, list], indices: list[int]) -> dict[str, list]:
            encoded = tokenizer(batch["text"], truncation=True, max_length=settings.max_length)
            return {"input_ids": encoded["input_ids"], "example_index": indices}

        return map_examples(examples, encode, task.name, cache_file)

    def collate(self, features: Sequence[dict[str, Any]], tokenizer, training: bool = False) -> dict[str, Tensor]:
        indices = torch.tensor([f["feature_index"] for f in features], dtype=torch.long)
        collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=MASK_PROBABILITY, return_tensors="pt")
        inputs = [{"input_ids": f["input_ids"]} for f in features]
        if training:
            batch = collator(inputs)
        else:
            masked = [_masked_alone(collator, one, int(i)) for one, i in zip(inputs, indices, strict=True)]
            batch = {
                "input_ids": pad_sequences([m["input_ids"] for m in masked], tokenizer.pad_token_id),
                "attention_mask": pad_sequences([[1] * len(m["input_ids"]) for m in masked], 0),
                "labels": pad_sequences([m["labels"] for m in masked], IGNORE_INDEX),
            }
        return {
            "input_ids": batch["input_ids"],
            "attention_mask": batch["attention_mask"],
            "labels": batch["labels"],
            "feature_index": indices,
        }

    def collect(
        self, batch: dict[str, Tensor], output: HeadOutput, settings: FeatureSettings | None = None
    ) -> dict[str, Tensor]:
        labels = batch["labels"]
        gold = labels[labels != IGNORE_INDEX]
        correct = output.logits.argmax(-1) == gold
        rows = (labels != IGNORE_INDEX).nonzero()[:, 0]
        per_feature = torch.zeros(len(labels), dtype=torch.long).index_add_(0, rows.cpu(), correct.long().cpu())
        totals = (labels != IGNORE_INDEX).sum(-1).cpu()
        return {"feature_index": batch["feature_index"].cpu(), "correct": per_feature, "masked": totals}

    def decode(self, task, examples, features, collected, settings) -> dict[str, tuple[int, int]]:
        ids, example_index = column(examples, "id"), column(features, "example_index")
        return {
            ids[example_index[int(f)]]: (int(c), int(m))
            for f, c, m in zip(collected["feature_index"], collected["correct"], collected["masked"], strict=True)
        }

    def references(self, task, examples) -> dict[str, None]:
        return dict.fromkeys(column(examples, "id"))


def _masked_alone(collator: DataCollatorForLanguageModeling, feature: dict, index: int) -> dict[str, list[int]]:
    """One evaluation feature masked with its own seed: its masks do not depend on its batch."""
    with torch.random.fork_rng():
        torch.manual_seed(index)
        masked = collator([feature])
    return {"input_ids": masked["input_ids"][0].tolist(), "labels": masked["labels"][0].tolist()}
