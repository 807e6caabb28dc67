"""Chunk-level F1, precision and recall with the semantics of `seqeval` 0.0.x (default mode).

This is what XTREME's scorer ran for PAN-X and UD-POS. A tag's first character is read as its
position (B, I, E, S, O) and the text after its last `-` as its type; sentences are joined with
`O` between them. So IOB2 tags give entity spans (an `I-` after `O` opens a span), and a UPOS tag
is a "chunk type" whose runs of identical tags merge into one chunk, while tags starting with `S`
(SCONJ, SYM) are single-token chunks. seqeval 1.x and plain token accuracy give different numbers
for POS; this module reproduces the published ones.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence

from lightning_xfer.errors import UserError
from lightning_xfer.metrics._common import aligned
from lightning_xfer.metrics.f1 import precision_recall_f1


def _ends(previous_tag: str, tag: str, previous_type: str, type_: str) -> bool:
    if previous_tag in ("E", "S"):
        return True
    if previous_tag in ("B", "I") and tag in ("B", "S", "O"):
        return True
    return previous_tag not in ("O", ".") and previous_type != type_


def _starts(previous_tag: str, tag: str, previous_type: str, type_: str) -> bool:
    if tag in ("B", "S"):
        return True
    if tag in ("E", "I") and previous_tag in ("E", "S", "O"):
        return True
    return tag not in ("O", ".") and previous_type != type_


def chunks(sentences: Sequence[Sequence[str]]) -> set[tuple[str, int, int]]:
    """(type, first, last) of every chunk, positions counted over the joined sentences."""
    flat = [tag for sentence in sentences for tag in [*sentence, "O"]]
    found = set()
    previous_tag, previous_type, begin = "O", "", 0
    for i, label in enumerate([*flat, "O"]):
        tag, type_ = label[:1], label.split("-")[-1]
        if _ends(previous_tag, tag, previous_type, type_):
            found.add((previous_type, begin, i - 1))
        if _starts(previous_tag, tag, previous_type, type_):
            begin = i
        previous_tag, previous_type = tag, type_
    return found


def chunk_scores(
    predictions: Mapping[str, Sequence[str]], references: Mapping[str, Sequence[str]], language: str = ""
) -> dict[str, float]:
    """{"f1", "precision", "recall"} over chunks, x100, plus token-level "token_accuracy"."""
    ids = _checked(predictions, references)
    gold = chunks([references[k] for k in ids])
    predicted = chunks([predictions[k] for k in ids])
    scores = precision_recall_f1(len(gold & predicted), len(predicted), len(gold))
    tokens = sum(len(references[k]) for k in ids)
    right = sum(p == g for k in ids for p, g in zip(predictions[k], references[k], strict=True))
    return {
        "f1": scores.f1 * 100,  # XTREME's `f1_score(...) * 100` on seqeval's fractions
        "precision": scores.precision * 100,
        "recall": scores.recall * 100,
        "token_accuracy": right / tokens * 100 if tokens else 0.0,
    }


def chunk_scores_by_example(
    predictions: Mapping[str, Sequence[str]], references: Mapping[str, Sequence[str]], language: str = ""
) -> dict[str, dict[str, float]]:
    """Per sentence, in reference order: chunk counts "correct", "predicted", "gold", token counts
    "tokens_correct", "tokens", and "score", the sentence's chunk F1 x100 (0 without any chunk).

    Chunks are found over the joined sentences, as `chunk_scores` finds them, and each is counted
    in the sentence where it starts; so the summed counts, through `precision_recall_f1`, give
    `chunk_scores` to the last bit, for any resample of sentences too.
    """
    ids = _checked(predictions, references)
    starts, position = [], 0
    for key in ids:
        starts.append(position)
        position += len(references[key]) + 1  # the "O" that `chunks` puts after every sentence
    gold, predicted = chunks([references[k] for k in ids]), chunks([predictions[k] for k in ids])
    counts = {key: {"correct": 0, "predicted": 0, "gold": 0} for key in ids}
    for name, found in (("correct", gold & predicted), ("predicted", predicted), ("gold", gold)):
        for _, first, _ in found:
            counts[ids[bisect_right(starts, first) - 1]][name] += 1
    records = {}
    for key, count in counts.items():
        right = sum(p == g for p, g in zip(predictions[key], references[key], strict=True))
        f1 = precision_recall_f1(count["correct"], count["predicted"], count["gold"]).f1
        records[key] = {**count, "tokens_correct": right, "tokens": len(references[key]), "score": f1 * 100}
    return records


def _checked(predictions: Mapping[str, Sequence[str]], references: Mapping[str, Sequence[str]]) -> list:
    ids = aligned(predictions, references)
    for key in ids:
        if len(predictions[key]) != len(references[key]):
            raise UserError(f"example {key}: {len(predictions[key])} predicted tags for {len(references[key])} tokens")
    return ids
