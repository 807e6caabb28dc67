"""Ratio-margin bitext mining (Artetxe and Schwenk, 2019), as XTREME runs it for BUCC 2018.

Similarities are cosines of L2-normalised embeddings. A pair's margin score is its cosine divided
by the mean of the average cosine of each side to its k nearest neighbours on the other side.
Candidates come from both directions (each source's best target, each target's best source) and
are matched greedily one-to-one, best score first. Nearest neighbours are found in blocks of
`block` rows, so memory stays bounded by block x corpus size rather than corpus size squared.
"""

from __future__ import annotations

import torch
from torch import Tensor

from lightning_xfer.metrics.f1 import precision_recall_f1


def nearest(queries: Tensor, keys: Tensor, k: int, block: int = 4096) -> tuple[Tensor, Tensor]:
    """Top-k cosine similarities and indices of `keys` for every row of `queries`."""
    k = min(k, len(keys))
    values, indices = [], []
    for start in range(0, len(queries), block):
        top = (queries[start : start + block] @ keys.T).topk(k, dim=-1)
        values.append(top.values)
        indices.append(top.indices)
    return torch.cat(values), torch.cat(indices)


def mine(sources: Tensor, targets: Tensor, k: int = 4, block: int = 4096) -> list[tuple[float, int, int]]:
    """One-to-one (score, source row, target row) candidates, best margin score first."""
    forward_similarity, forward_index = nearest(sources, targets, k, block)
    backward_similarity, backward_index = nearest(targets, sources, k, block)
    return margin_matches(forward_similarity, forward_index, backward_similarity, backward_index)


def margin_matches(
    forward_similarity: Tensor, forward_index: Tensor, backward_similarity: Tensor, backward_index: Tensor
) -> list[tuple[float, int, int]]:
    """Ratio-margin scores from each side's k nearest neighbours (however they were found: blocked
    matmuls here, faiss or a dense matrix in `benchmarks/bucc_mining.py`), matched one-to-one."""
    source_mean, target_mean = forward_similarity.mean(1), backward_similarity.mean(1)
    forward_margin = forward_similarity / ((source_mean[:, None] + target_mean[forward_index]) / 2)
    backward_margin = backward_similarity / ((target_mean[:, None] + source_mean[backward_index]) / 2)
    forward_best = forward_margin.argmax(1)
    backward_best = backward_margin.argmax(1)
    rows = torch.arange(len(forward_similarity))
    columns = torch.arange(len(backward_similarity))
    candidates = [
        *zip(forward_margin[rows, forward_best].tolist(), rows.tolist(), forward_index[rows, forward_best].tolist(),
             strict=True),
        *zip(backward_margin[columns, backward_best].tolist(), backward_index[columns, backward_best].tolist(),
             columns.tolist(), strict=True),
    ]  # fmt: skip
    candidates.sort(key=lambda c: -c[0])
    seen_sources, seen_targets, matched = set(), set(), []
    for score, source, target in candidates:
        if source not in seen_sources and target not in seen_targets:
            seen_sources.add(source)
            seen_targets.add(target)
            matched.append((score, source, target))
    return matched


def best_threshold(candidates: list[tuple[float, str, str]], gold: set[tuple[str, str]]) -> float:
    """The score threshold that maximises F1 of `candidates` (best first) against `gold`: halfway
    between the last kept candidate's score and the next one's (XTREME's `bucc_optimize`). Pairs
    scoring at least the threshold are kept (`bucc_extract`), so ties with it count as mined."""
    threshold, best_f1, correct = 0.0, 0.0, 0
    for extracted, (score, source, target) in enumerate(candidates, start=1):
        correct += (source, target) in gold
        f1 = precision_recall_f1(correct, extracted, len(gold)).f1
        if f1 > best_f1:
            best_f1 = f1
            following = candidates[extracted][0] if extracted < len(candidates) else score - 1e-6
            threshold = (score + following) / 2
    return threshold
