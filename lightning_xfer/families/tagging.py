"""Token tagging: PAN-X (NER), UD-POS, CCG supertags.

A word's label sits on its first sub-word (on its last for a causal encoder:
`FeatureSettings.word_label`); its other sub-words and the special tokens carry `IGNORE_INDEX`.
Sentences longer than `max_length` are split into overlapping windows (never truncated: a missing
word would shift every prediction after it in the submission file), and a word's prediction comes
from the window where it has the most context on both sides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

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
    special_tokens_around,
)
from lightning_xfer.heads import IGNORE_INDEX, Head, TokenTaggingHead
from lightning_xfer.heads.pooling import Pooling
from lightning_xfer.submission.formats import SubmissionFormat, TagLines


class TaggingExample(TypedDict, total=False):
    """One sentence, as the tagging readers give it (`readers/token_tsv.py`, `readers/conllu.py`)."""

    id: str
    tokens: list[str]
    tags: list[str] | None
    """One tag per token; empty or None: unlabelled."""
    line: int
    """The line it starts on, for errors that name it."""


class Tagging(TaskFamily):
    """Examples: `TaggingExample`; predictions: one tag per token."""

    def submission_format(self) -> SubmissionFormat:
        return TagLines()

    def build_head(self, task, encoder: nn.Module, dropout: float, layer: int, pooling: Pooling) -> Head:
        return TokenTaggingHead(encoder.config.hidden_size, len(task.labels), dropout, layer)

    def featurize(self, examples, task, tokenizer, settings: FeatureSettings, training, cache_file=None):
        label_ids = {label: i for i, label in enumerate(task.labels)}
        before, after = special_tokens_around(tokenizer)
        room = settings.max_length - len(before) - len(after)
        overlap = min(settings.doc_stride, room // 2)
        if room < 2:
            raise UserError(f"max_length {settings.max_length} leaves no room for words in task {task.name}")

        def encode(batch: dict[str, list], indices: list[int]) -> dict[str, list]:
            encoded = tokenizer(batch["tokens"], is_split_into_words=True, add_special_tokens=False, verbose=False)
            out: dict[str, list] = {"input_ids": [], "labels": [], "word_index": [], "example_index": []}
            for row, index in enumerate(indices):
                words, tags = batch["tokens"][row], batch["tags"][row] if "tags" in batch else None
                ids, word_ids = encoded["input_ids"][row], encoded.word_ids(row)
                if len(set(w for w in word_ids if w is not None)) < len(words):
                    ids, word_ids = _with_unknown_for_empty_words(tokenizer, words, word_ids)
                first = _labelled_positions(word_ids, settings.word_label)
                gold = [label_ids[t] for t in tags] if tags else None
                for start in _window_starts(len(ids), room, overlap):
                    window = first[start : start + room]
                    out["input_ids"].append(before + ids[start : start + room] + after)
                    out["word_index"].append([-1] * len(before) + window + [-1] * len(after))
                    if gold is None:  # an unlabelled sentence: predicted, never trained on or scored
                        out["labels"].append(None)
                    else:
                        labels = [gold[w] if w >= 0 else IGNORE_INDEX for w in window]
                        out["labels"].append([IGNORE_INDEX] * len(before) + labels + [IGNORE_INDEX] * len(after))
                    out["example_index"].append(index)
            return out

        return map_examples(examples, encode, task.name, cache_file)

    def collate(self, features: Sequence[dict[str, Any]], tokenizer, training: bool = False) -> dict[str, Tensor]:
        batch = {
            "input_ids": pad_sequences([f["input_ids"] for f in features], tokenizer.pad_token_id),
            "attention_mask": pad_sequences([[1] * len(f["input_ids"]) for f in features], 0),
            "feature_index": torch.tensor([f["feature_index"] for f in features], dtype=torch.long),
        }
        if batch_is_labelled(features, training):
            batch["labels"] = pad_sequences([f["labels"] for f in features], IGNORE_INDEX)
        return batch

    def decode(self, task, examples, features, collected, settings) -> dict[str, list[str]]:
        columns = features.select_columns(["example_index", "word_index"]).to_dict()
        best: dict[tuple[int, int], tuple[int, int]] = {}  # (example, word) -> (context, label)
        for feature, predicted in zip(
            collected["feature_index"].tolist(), collected["prediction"].tolist(), strict=True
        ):
            word_index = columns["word_index"][feature]
            example = columns["example_index"][feature]
            last = len(word_index) - 1
            for position, word in enumerate(word_index):
                if word < 0:
                    continue
                context = min(position, last - position)
                key = (example, word)
                if key not in best or context > best[key][0]:
                    best[key] = (context, predicted[position])
        predictions = {}
        for example, (identifier, words) in enumerate(
            zip(column(examples, "id"), column(examples, "tokens"), strict=True)
        ):
            # A word without a prediction only happens when an example was never evaluated.
            labels = [best.get((example, w), (0, None))[1] for w in range(len(words))]
            if all(label is not None for label in labels):
                predictions[identifier] = [task.labels[label] for label in labels]
        return predictions

    def relabel(self, example: TaggingExample, aliases: Mapping[str, str]) -> list[str]:
        """The word tags (none where a reader gave the example none)."""
        if "tags" not in example:
            return []
        example["tags"] = [aliases.get(t, t) for t in example["tags"]]
        return example["tags"]

    def references(self, task, examples) -> dict[str, list[str]]:
        if "tags" not in examples.column_names:
            return {}
        tags = zip(column(examples, "id"), column(examples, "tags"), column(examples, "tokens"), strict=True)
        return {key: sentence for key, sentence, words in tags if sentence or not words}


def _labelled_positions(word_ids: list[int | None], word_label: str) -> list[int]:
    """Per token, the index of the word whose tag it carries, or -1: each word's first sub-word, or
    its last (`word_label="last"`)."""
    if word_label == "last":
        after = [*word_ids[1:], None]
        return [w if w is not None and after[j] != w else -1 for j, w in enumerate(word_ids)]
    return [w if w is not None and (j == 0 or word_ids[j - 1] != w) else -1 for j, w in enumerate(word_ids)]


def _window_starts(length: int, room: int, overlap: int) -> list[int]:
    if length <= room:
        return [0]
    step = room - overlap
    starts = list(range(0, length - room, step))
    return [*starts, length - room]


def _with_unknown_for_empty_words(tokenizer, words: list[str], word_ids: list) -> tuple[list[int], list]:
    """Re-tokenise with `<unk>` for words that produced no token (e.g. a lone zero-width space).

    XTREME's own preprocessing does the same, so every word keeps a position and a prediction.
    """
    present = {w for w in word_ids if w is not None}
    patched = [word if i in present else tokenizer.unk_token for i, word in enumerate(words)]
    encoded = tokenizer(patched, is_split_into_words=True, add_special_tokens=False)
    return encoded["input_ids"], encoded.word_ids()
