"""Extractive span QA: SQuAD, XQuAD, MLQA, TyDiQA-GoldP.

Long contexts are cut into windows of `max_length` tokens overlapping by `doc_stride`, as the
SQuAD recipe does. Decoding combines the `n_best` start and end candidates of every window of an
example, keeps spans inside the context no longer than `max_answer_length` tokens, and returns the
best one as a slice of the *original* context string (character offsets from the fast tokenizer),
so answers keep the context's own spelling, spacing and script.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from lightning_xfer.families.family import (
    FeatureSettings,
    TaskFamily,
    collate_inputs,
    column,
    map_examples,
    segment_ids,
)
from lightning_xfer.heads import Head, HeadOutput, SpanQAHead
from lightning_xfer.heads.pooling import Pooling
from lightning_xfer.submission.formats import AnswerJson, SubmissionFormat


@dataclass(frozen=True)
class SpanQA(TaskFamily):
    """Examples: {id, context, question, answers{text, answer_start}}; predictions: answer text."""

    allow_unanswerable: bool = False
    """SQuAD v2.0: answer "" when the first token's start+end score (the lowest over an example's
    windows) beats the best span, as the SQuAD v2 recipe does."""

    def submission_format(self) -> SubmissionFormat:
        return AnswerJson()

    def build_head(self, task, encoder: nn.Module, dropout: float, layer: int, pooling: Pooling) -> Head:
        return SpanQAHead(encoder.config.hidden_size, layer=layer)

    def featurize(self, examples, task, tokenizer, settings: FeatureSettings, training, cache_file=None):
        def encode(batch: dict[str, list], indices: list[int]) -> dict[str, list]:
            questions = _cut_questions(tokenizer, [q.lstrip() for q in batch["question"]], settings.max_query_length)
            encoded = tokenizer(
                questions,
                batch["context"],
                truncation="only_second",
                max_length=settings.max_length,
                stride=settings.doc_stride,
                return_overflowing_tokens=True,
                return_offsets_mapping=True,
            )
            samples = encoded.pop("overflow_to_sample_mapping")
            out: dict[str, list] = {"input_ids": encoded["input_ids"], "offsets": [], "example_index": []}
            out.update(segment_ids(encoded))
            out.update({"start_positions": [], "end_positions": []} if training else {})
            for feature, sample in enumerate(samples):
                sequence_ids = encoded.sequence_ids(feature)
                offsets = [
                    list(span) if sequence_ids[k] == 1 else None
                    for k, span in enumerate(encoded["offset_mapping"][feature])
                ]
                out["offsets"].append(offsets)
                out["example_index"].append(indices[sample])
                if training:
                    start, end = _answer_tokens(offsets, batch["answers"][sample])
                    out["start_positions"].append(start)
                    out["end_positions"].append(end)
            return out

        return map_examples(examples, encode, task.name, cache_file)

    def collate(self, features: Sequence[dict[str, Any]], tokenizer, training: bool = False) -> dict[str, Tensor]:
        batch = collate_inputs(features, tokenizer.pad_token_id)
        if "start_positions" in features[0]:
            batch["start_positions"] = torch.tensor([f["start_positions"] for f in features], dtype=torch.long)
            batch["end_positions"] = torch.tensor([f["end_positions"] for f in features], dtype=torch.long)
        return batch

    def collect(self, batch: dict[str, Tensor], output: HeadOutput) -> dict[str, Tensor]:
        k = min(20, output.logits.shape[1])
        start = output.logits[..., 0].topk(k, dim=-1)
        end = output.logits[..., 1].topk(k, dim=-1)
        return {
            "feature_index": batch["feature_index"].cpu(),
            "start_index": start.indices.cpu(),
            "start_score": start.values.cpu(),
            "end_index": end.indices.cpu(),
            "end_score": end.values.cpu(),
            "null_score": (output.logits[:, 0, 0] + output.logits[:, 0, 1]).cpu(),
        }

    def decode(self, task, examples, features, collected, settings) -> dict[str, str]:
        columns = features.select_columns(["example_index", "offsets"]).to_dict()
        contexts = column(examples, "context")
        best: dict[int, tuple[float, str]] = {}
        null: dict[int, float] = {}
        n = settings.n_best
        rows = zip(
            collected["feature_index"].tolist(),
            collected["start_index"][:, :n].tolist(),
            collected["start_score"][:, :n].tolist(),
            collected["end_index"][:, :n].tolist(),
            collected["end_score"][:, :n].tolist(),
            collected["null_score"].tolist(),
            strict=True,
        )
        for feature, starts, start_scores, ends, end_scores, null_score in rows:
            example, offsets = columns["example_index"][feature], columns["offsets"][feature]
            best.setdefault(example, (float("-inf"), ""))
            null[example] = min(null.get(example, float("inf")), null_score)
            for s, s_score in zip(starts, start_scores, strict=True):
                for e, e_score in zip(ends, end_scores, strict=True):
                    if s < 0 or e < s or e >= len(offsets) or e - s + 1 > settings.max_answer_length:
                        continue
                    if offsets[s] is None or offsets[e] is None or s_score + e_score <= best[example][0]:
                        continue
                    text = contexts[example][offsets[s][0] : offsets[e][1]].strip()
                    best[example] = (s_score + e_score, text)
        ids = column(examples, "id")
        if self.allow_unanswerable:
            return {ids[e]: "" if null[e] > score else text for e, (score, text) in best.items()}
        return {ids[example]: text for example, (_, text) in best.items()}

    def references(self, task, examples) -> dict[str, list[str]]:
        return {i: a["text"] for i, a in zip(column(examples, "id"), column(examples, "answers"), strict=True)}


def _cut_questions(tokenizer, questions: list[str], max_tokens: int) -> list[str]:
    encoded = tokenizer(questions, add_special_tokens=False, return_offsets_mapping=True)
    return [
        question if len(offsets) <= max_tokens else question[: offsets[max_tokens - 1][1]]
        for question, offsets in zip(questions, encoded["offset_mapping"], strict=True)
    ]


def _answer_tokens(offsets: list, answers: dict[str, list]) -> tuple[int, int]:
    """Token positions of the first gold answer in this window; (0, 0) when it is not inside."""
    if not answers["text"]:
        return 0, 0
    start_char = answers["answer_start"][0]
    end_char = start_char + len(answers["text"][0])
    context = [k for k, span in enumerate(offsets) if span is not None]
    first, last = context[0], context[-1]
    if offsets[first][0] > start_char or offsets[last][1] < end_char:
        return 0, 0
    start = first
    while start <= last and offsets[start][0] <= start_char:
        start += 1
    end = last
    while end >= first and offsets[end][1] >= end_char:
        end -= 1
    return start - 1, end + 1
