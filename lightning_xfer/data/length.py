"""Batch inputs of similar length together, so that per-batch padding has little to pad.

Every collate pads a batch to its own longest input. In a shuffled or file-order batch one long
sentence makes every row as long: on PAN-X most of such a batch is still padding. Evaluation order
does not matter to the scores (every family decodes by `feature_index`), so evaluation batches go
longest first (an out-of-memory shows in the first batch, not the last); training may group by
length too (`data.group_by_length`), which changes which examples share a batch and is therefore
off by default.
"""

from __future__ import annotations

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import torch
from transformers.trainer_pt_utils import LengthGroupedSampler

LENGTH_COLUMNS = ("input_ids", "target_input_ids")
"""Token columns a batch pads: the input and, for retrieval pairs, the target text."""


def feature_lengths(features: datasets.Dataset) -> np.ndarray:
    """The padded length each feature needs: its longest token column (for multiple choice, the
    longest choice), read from the Arrow table without building Python lists."""
    table = (features.flatten_indices() if features._indices is not None else features).data
    lengths = np.zeros(len(features), dtype=np.int64)
    for name in LENGTH_COLUMNS:
        if name not in features.column_names:
            continue
        array = table.column(name).combine_chunks()
        if pa.types.is_list(array.type.value_type) or pa.types.is_large_list(array.type.value_type):
            inner = pc.list_value_length(pc.list_flatten(array)).to_numpy(zero_copy_only=False)
            counts = pc.list_value_length(array).to_numpy(zero_copy_only=False)
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
            longest = np.maximum.reduceat(inner, starts) if len(inner) else np.zeros(len(array), np.int64)
            longest = np.where(counts > 0, longest, 0)
        else:
            longest = pc.list_value_length(array).to_numpy(zero_copy_only=False)
        lengths = np.maximum(lengths, longest)
    return lengths


def longest_first(features: datasets.Dataset) -> list[int]:
    """Feature rows from the longest to the shortest; equal lengths keep file order."""
    return np.argsort(-feature_lengths(features), kind="stable").tolist()


def length_grouped_sampler(features: datasets.Dataset, batch_size: int, seed: int) -> LengthGroupedSampler:
    """transformers' sampler: a random permutation cut into mega-batches of 50 batches, each sorted
    by length, the longest batch first. Seeded alike on every rank: under data parallelism
    Lightning hands rank r every world-size-th index of one shared order, so each rank's batches
    stay grouped."""
    generator = torch.Generator().manual_seed(seed)
    return LengthGroupedSampler(batch_size, lengths=feature_lengths(features).tolist(), generator=generator)
