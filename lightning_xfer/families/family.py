"""The interface every task family implements: features, batches, heads, decoding.

A family (classification, tagging, span QA, multiple choice, retrieval, masked LM) owns the
steps between a task's examples and its predictions; a task in the catalogue names its family
by importing its class. Evaluation is split in two so it stays correct under data parallelism:
`collect` turns one batch's head output into small CPU tensors keyed by feature index (these
can be gathered across processes and de-duplicated), and `decode` turns all of them into one
prediction per example id, in the form the official scorer reads.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import datasets
import torch
from torch import Tensor, nn
from transformers import PreTrainedTokenizerBase

from lightning_xfer.errors import UserError
from lightning_xfer.heads.output import Head, HeadOutput
from lightning_xfer.heads.pooling import Pooling
from lightning_xfer.submission.formats import SubmissionFormat


class TaskView(Protocol):
    """What a family reads of the catalogue's `lightning_xfer.tasks.task.Task`: families sit below
    the catalogue, which imports them, so they name what they use instead of importing it."""

    @property
    def name(self) -> str: ...

    @property
    def labels(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class FeatureSettings:
    """Tokenisation settings of one task in one run."""

    max_length: int = 128
    """Tokens per input, special tokens included (XTREME: 128; QA: 384)."""
    doc_stride: int = 128
    """Windows of a long input: for long sentences and span QA's `huggingface` windows the overlap,
    in tokens, between consecutive windows; for span QA's `xtreme` windows the step between window
    starts (span QA's own settings are `span_qa.SpanQASettings`, on its family)."""
    word_label: Literal["first", "last"] = "first"
    """The sub-word of a word that carries its tag: the first (XTREME's recipe, for encoders) or the
    last (for a causal model, whose first sub-word has not seen the rest of the word)."""


class TaskFamily:
    """Base class of the task families; subclasses override what differs."""

    def build_head(self, task: TaskView, encoder: nn.Module, dropout: float, layer: int, pooling: Pooling) -> Head:
        """The task's head on `encoder`, reading hidden layer `layer`; `pooling` is how heads that read
        one vector per sequence get it (the encoder spec's choice)."""
        raise NotImplementedError

    def default_layer(self, encoder_config) -> int | None:
        """The hidden layer this family reads unless a config says otherwise; None: the encoder spec's."""
        return None

    def with_protocol(self, protocol: Literal["xtreme", "ours"]) -> TaskFamily:
        """This family as a task config's `protocol` asks: `xtreme` (the benchmark's scripts, the
        declaration's own settings) or `ours` (the project's choices where they differ)."""
        return self

    def evaluates_in_fp32(self) -> bool:
        """Whether evaluation runs with autocast off (float32 where the weights are), as the benchmark does."""
        return False

    def feature_fingerprint(self) -> str:
        """What of the family's settings its features depend on (part of the feature cache's key)."""
        return type(self).__name__

    def submission_format(self) -> SubmissionFormat:
        """The benchmark file format of this family's predictions, unless a task declares its own."""
        raise NotImplementedError

    def featurize(
        self,
        examples: datasets.Dataset,
        task: TaskView,
        tokenizer: PreTrainedTokenizerBase,
        settings: FeatureSettings,
        training: bool,
        cache_file: str | None = None,
    ) -> datasets.Dataset:
        """Model inputs for `examples`; each feature keeps `example_index` into `examples`.

        The data module adds `feature_index` (the feature's row) afterwards, for every family.
        """
        raise NotImplementedError

    def collate(
        self, features: Sequence[dict[str, Any]], tokenizer: PreTrainedTokenizerBase, training: bool = False
    ) -> dict[str, Tensor]:
        """A batch, padded to its own longest input (never to `max_length`)."""
        raise NotImplementedError

    def collect(
        self, batch: dict[str, Tensor], output: HeadOutput, settings: FeatureSettings | None = None
    ) -> dict[str, Tensor]:
        """The part of a batch's output that decoding needs, on the CPU, keyed by `feature_index`.

        `settings` are the evaluation set's (the same that `decode` gets; None: the defaults). By
        default the arg-max over the last dimension: a label per example, per token, or a choice.
        """
        return {"feature_index": batch["feature_index"].cpu(), "prediction": output.logits.argmax(-1).cpu()}

    def decode(
        self,
        task: TaskView,
        examples: datasets.Dataset,
        features: datasets.Dataset,
        collected: dict[str, Tensor],
        settings: FeatureSettings,
    ) -> dict[str, Any]:
        """One prediction per example id, as the benchmark's submission format holds it."""
        raise NotImplementedError

    def complete_unlabelled(self, example: dict[str, Any], labelled: bool, path: Path) -> None:
        """Give an example that its reader read without gold (None where the gold goes: a test file
        whose labels are withheld) the family's empty gold, so it is predicted and never scored; or,
        when the split must be labelled, raise the error that names the file. The loader asks the
        family rather than guessing from the example's keys; by default a family's readers mark none."""

    def relabel(self, example: dict[str, Any], aliases: Mapping[str, str]) -> list[str]:
        """Rename the example's labels by `aliases` (in place) and return them, for the loader to check
        against the task's label set; [] where the family's examples carry none that a label set names."""
        return []

    def holdout_group(self, example: dict[str, Any]) -> Hashable | None:
        """What `validation_holdout` keeps together with this example (all its examples go to training
        or all to validation); None: the example on its own."""
        return None

    def references(self, task: TaskView, examples: datasets.Dataset) -> dict[str, Any]:
        """The gold answer per labelled example id, as the official scorer reads it.

        Examples without a label (a test file whose labels are not public) are left out: they are
        predicted, never scored.
        """
        raise NotImplementedError


def batch_is_labelled(features: Sequence[dict[str, Any]], training: bool) -> bool:
    """Whether every feature of a batch has labels (else the batch gets none, and no loss).

    Evaluation files may come without labels; a training batch without them is an error.
    """
    if all(feature.get("labels") is not None for feature in features):
        return True
    if training:
        raise UserError("a training batch has examples without a label: the training split must be a labelled file")
    return False


MAP_BATCH_SIZE = 1000
"""Examples the fast (Rust) tokenizer encodes per call: it parallelises over a batch, and Python
runs once per batch (`benchmarks/feature_conversion.py` sets 1 to measure the per-example way)."""


def map_examples(examples: datasets.Dataset, encode, task_name: str, cache_file: str | None) -> datasets.Dataset:
    """Batched `map` of `encode(batch, indices)` whose features replace the examples' columns,
    read from `cache_file` when an earlier run wrote it."""
    return examples.map(
        encode,
        batched=True,
        batch_size=MAP_BATCH_SIZE,
        with_indices=True,
        remove_columns=examples.column_names,
        cache_file_name=cache_file,
        load_from_cache_file=cache_file is not None,
        desc=f"tokenising {task_name}",
    )


def column(dataset: datasets.Dataset, name: str) -> list:
    """A whole column as a Python list.

    `dataset[name]` is a lazy column in `datasets` >= 4, and indexing it element by element reads
    the Arrow table once per element; decoding reads whole columns once instead.
    """
    if dataset._indices is not None:  # a selection or shuffle of another table
        return list(dataset[name])
    return dataset.data.column(name).to_pylist()


def pad_sequences(sequences: Sequence[Sequence[int]], value: int, multiple_of: int | None = None) -> Tensor:
    """Right-pad integer lists to the longest one (rounded up to `multiple_of`)."""
    length = max(len(s) for s in sequences)
    if multiple_of:
        length = -(-length // multiple_of) * multiple_of
    out = torch.full((len(sequences), length), value, dtype=torch.long)
    for row, sequence in enumerate(sequences):
        out[row, : len(sequence)] = torch.as_tensor(sequence, dtype=torch.long)
    return out


def collate_inputs(features: Sequence[dict[str, Any]], pad_token_id: int) -> dict[str, Tensor]:
    """input_ids/attention_mask (and BERT's token_type_ids) padded per batch, plus feature indices."""
    batch = {
        "input_ids": pad_sequences([f["input_ids"] for f in features], pad_token_id),
        "attention_mask": pad_sequences([[1] * len(f["input_ids"]) for f in features], 0),
        "feature_index": torch.tensor([f["feature_index"] for f in features], dtype=torch.long),
    }
    if "token_type_ids" in features[0]:
        batch["token_type_ids"] = pad_sequences([f["token_type_ids"] for f in features], 0)
    return batch


def segment_ids(encoded) -> dict[str, list]:
    """BERT-style token_type_ids when the tokenizer makes them and they are not all zero.

    XLM-R has a single segment type; mBERT marks the second text of a pair with 1.
    """
    types = encoded.get("token_type_ids")
    if types is None or not any(any(t) for t in types):
        return {}
    return {"token_type_ids": types}


def merge_collected(parts: list[dict[str, Tensor]]) -> dict[str, Tensor]:
    """Concatenate per-batch collections and keep the first row of every feature index.

    Distributed samplers repeat a few features to even out the ranks; de-duplicating by index
    scores every example exactly once.
    """
    if not parts:
        return {}
    merged = {key: _concat([p[key] for p in parts]) for key in parts[0]}
    order = merged["feature_index"]
    unique, first = _first_occurrence(order)
    return {key: value[first] for key, value in merged.items()} if len(unique) != len(order) else merged


def _concat(tensors: list[Tensor]) -> Tensor:
    if tensors[0].dim() < 2:
        return torch.cat(tensors)
    width = max(t.shape[1] for t in tensors)  # [rows, columns] parts of different widths
    return torch.cat([torch.nn.functional.pad(t, (0, width - t.shape[1]), value=-1) for t in tensors])


def _first_occurrence(values: Tensor) -> tuple[Tensor, Tensor]:
    unique, inverse = torch.unique(values, return_inverse=True)
    positions = torch.arange(len(values))
    first = torch.full((len(unique),), len(values), dtype=torch.long).scatter_reduce(0, inverse, positions, "amin")
    return unique, first


def special_tokens_around(tokenizer: PreTrainedTokenizerBase) -> tuple[list[int], list[int]]:
    """The special token ids the tokenizer puts before and after a single sequence.

    (`<s>` and `</s>` for XLM-R, `[CLS]` and `[SEP]` for BERT, nothing for most decoder-only
    models), found by asking the tokenizer rather than assuming one model family.
    """
    with_special = tokenizer("a")["input_ids"]
    plain = tokenizer("a", add_special_tokens=False)["input_ids"]
    for at in range(len(with_special) - len(plain) + 1):
        if with_special[at : at + len(plain)] == plain:
            return with_special[:at], with_special[at + len(plain) :]
    raise ValueError(f"cannot locate the text inside {tokenizer.name_or_path}'s special tokens")
