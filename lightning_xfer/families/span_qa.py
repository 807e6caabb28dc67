"""Extractive span QA: SQuAD, XQuAD, MLQA, TyDiQA-GoldP.

Long contexts are cut into windows of `max_length` tokens, in one of two ways (a task config's
`qa.windows`, `SpanQASettings`): Hugging Face's run_qa.py, whose windows overlap by `doc_stride`
tokens, or XTREME's run_squad.py, whose windows start every `doc_stride` tokens and whose
decoding only reads an answer from its first token's "max context" window. Decoding combines the
`n_best` start and end candidates of every window of an example, keeps spans inside the context
no longer than `max_answer_length` tokens, and returns the best one's text as XTREME's run_squad
extracts it (`qa.answer_text: xtreme`, the default: through whitespace words, see `answer_text.py`)
or as a slice of the *original* context string (`characters`: character offsets from the fast
tokenizer), so answers keep the context's own spelling, spacing and script.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypedDict

import torch
from torch import Tensor, nn

from lightning_xfer.errors import UserError
from lightning_xfer.families.answer_text import xtreme_answer_text
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
from lightning_xfer.readers.squad_json import unlabelled_question
from lightning_xfer.submission.formats import AnswerJson, SubmissionFormat


class Answers(TypedDict):
    """A question's gold answers (SQuAD's format): several where annotators differ."""

    text: list[str]
    answer_start: list[int]


class SpanQAExample(TypedDict):
    """One question, as the span-QA readers give it (`readers/squad_json.py`, the hub converters)."""

    id: str
    context: str
    question: str
    answers: Answers | None
    """None where the file has no gold (a test split whose answers are withheld)."""


@dataclass(frozen=True)
class SpanQASettings:
    """How one span-QA task of a run is windowed and decoded: a task config's `qa:`
    (`data.tasks[i].qa`). They live on the task, not on the DataModule, because only span QA reads
    them; a run that mixes tasks sets them where they apply."""

    max_query_length: int = 64
    """Questions are cut to this many tokens, as the SQuAD recipe does."""
    max_answer_length: int = 30
    """Longest answer span, in tokens, that decoding considers."""
    n_best: int = 20
    """Start and end candidates per window that decoding combines (both recipes use 20)."""
    windows: Literal["huggingface", "xtreme"] = "huggingface"
    """How contexts longer than `max_length` are windowed. `huggingface` (transformers' run_qa.py):
    consecutive windows overlap by `data.doc_stride` tokens and an answer may start in any window.
    `xtreme` (XTREME's run_squad.py, after BERT's): windows start every `doc_stride` tokens, and an
    answer is only read from a window that is its first token's "max context" window: the first
    of the windows with the highest min(tokens left of it, tokens right of it) + 0.01 x window length."""
    answer_text: Literal["xtreme", "characters"] = field(default="xtreme", repr=False)
    """How a predicted span becomes text. `xtreme` (XTREME's run_squad.py, `get_final_text`): mapped
    back through the context's whitespace words, the whole words when that fails (most Chinese
    answers). `characters`: the context's characters at the span's offsets. Out of the repr, which
    keys the feature cache: decoding only, so both ways share the cached features."""


@dataclass(frozen=True)
class SpanQA(TaskFamily):
    """Examples: `SpanQAExample`; predictions: answer text."""

    allow_unanswerable: bool = False
    """SQuAD v2.0: answer "" when the first token's start+end score (the lowest over an example's
    windows) beats the best span, as the SQuAD v2 recipe does."""
    qa: SpanQASettings = SpanQASettings()
    """The task's windows and decoding; `resolve_task` puts a task config's `qa:` here, so the
    catalogue's declaration keeps the defaults and each run's task carries its own."""

    def feature_fingerprint(self) -> str:
        """The class and the QA settings (the answer text, decoding only, is out of their repr)."""
        return f"{type(self).__name__}({self.qa!r})"

    def submission_format(self) -> SubmissionFormat:
        return AnswerJson()

    def build_head(self, task, encoder: nn.Module, dropout: float, layer: int, pooling: Pooling) -> Head:
        return SpanQAHead(encoder.config.hidden_size, layer=layer)

    def featurize(self, examples, task, tokenizer, settings: FeatureSettings, training, cache_file=None):
        windows = _xtreme_windows if self.qa.windows == "xtreme" else _huggingface_windows

        def encode(batch: dict[str, list], indices: list[int]) -> dict[str, list]:
            questions = [q.lstrip() for q in batch["question"]]
            out = windows(tokenizer, questions, batch["context"], settings, self.qa.max_query_length)
            samples = out.pop("sample")
            out["example_index"] = [indices[sample] for sample in samples]
            if training:
                answers = [batch["answers"][sample] for sample in samples]
                positions = [_answer_tokens(o, a, task.name) for o, a in zip(out["offsets"], answers, strict=True)]
                out["start_positions"] = [start for start, _ in positions]
                out["end_positions"] = [end for _, end in positions]
            return out

        return map_examples(examples, encode, task.name, cache_file)

    def collate(self, features: Sequence[dict[str, Any]], tokenizer, training: bool = False) -> dict[str, Tensor]:
        batch = collate_inputs(features, tokenizer.pad_token_id)
        if "start_positions" in features[0]:
            batch["start_positions"] = torch.tensor([f["start_positions"] for f in features], dtype=torch.long)
            batch["end_positions"] = torch.tensor([f["end_positions"] for f in features], dtype=torch.long)
        return batch

    def collect(
        self, batch: dict[str, Tensor], output: HeadOutput, settings: FeatureSettings | None = None
    ) -> dict[str, Tensor]:
        k = min(self.qa.n_best, output.logits.shape[1])
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
        xtreme = "max_context" in features.column_names  # XTREME's windows: answers start in max context
        columns = features.select_columns(["example_index", "offsets", *(["max_context"] if xtreme else [])]).to_dict()
        contexts = column(examples, "context")
        best: dict[int, tuple[float, int, int]] = {}  # example -> (score, first character, end character)
        null: dict[int, float] = {}
        n = self.qa.n_best
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
            max_context = columns["max_context"][feature] if xtreme else None
            best.setdefault(example, (float("-inf"), 0, 0))
            null[example] = min(null.get(example, float("inf")), null_score)
            for s, s_score in zip(starts, start_scores, strict=True):
                for e, e_score in zip(ends, end_scores, strict=True):
                    if s < 0 or e < s or e >= len(offsets) or e - s + 1 > self.qa.max_answer_length:
                        continue
                    if offsets[s] is None or offsets[e] is None or s_score + e_score <= best[example][0]:
                        continue
                    if max_context is not None and not max_context[s]:
                        continue
                    best[example] = (s_score + e_score, offsets[s][0], offsets[e][1])
        texts = {e: self._answer(contexts[e], start, end) for e, (_, start, end) in best.items()}
        ids = column(examples, "id")
        if self.allow_unanswerable:
            return {ids[e]: "" if null[e] > best[e][0] else text for e, text in texts.items()}
        return {ids[example]: text for example, text in texts.items()}

    def _answer(self, context: str, start: int, end: int) -> str:
        if end <= start:  # no span was found in any window
            return ""
        if self.qa.answer_text == "xtreme":
            return xtreme_answer_text(context, start, end)
        return context[start:end].strip()

    def complete_unlabelled(self, example: SpanQAExample, labelled: bool, path: Path) -> None:
        """QA readers mark a question without gold answers with `answers` None (see `read_qa_file`)."""
        if "answers" not in example or example["answers"] is not None:
            return
        if labelled:
            raise unlabelled_question(path, example["id"])
        example["answers"] = {"text": [], "answer_start": []}

    def holdout_group(self, example: SpanQAExample) -> Hashable | None:
        """The paragraph: no validation question is answered from a paragraph the model trained on."""
        return example["context"]

    def references(self, task, examples) -> dict[str, list[str]]:
        answers = zip(column(examples, "id"), column(examples, "answers"), strict=True)
        return {key: answer["text"] for key, answer in answers if answer is not None}


def _huggingface_windows(
    tokenizer, questions: list[str], contexts: list[str], settings: FeatureSettings, max_query_length: int
) -> dict:
    """run_qa.py's windows: the tokenizer's overflow, consecutive windows overlapping by `doc_stride`."""
    encoded = tokenizer(
        _cut_questions(tokenizer, questions, max_query_length),
        contexts,
        truncation="only_second",
        max_length=settings.max_length,
        stride=settings.doc_stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    out: dict[str, list] = {"input_ids": encoded["input_ids"], "offsets": [], **segment_ids(encoded)}
    out["sample"] = encoded["overflow_to_sample_mapping"]
    for feature, spans in enumerate(encoded["offset_mapping"]):
        sequence_ids = encoded.sequence_ids(feature)
        out["offsets"].append([list(span) if sequence_ids[k] == 1 else None for k, span in enumerate(spans)])
    return out


def _xtreme_windows(
    tokenizer, questions: list[str], contexts: list[str], settings: FeatureSettings, max_query_length: int
) -> dict:
    """run_squad.py's windows: the context's tokens cut every `doc_stride` tokens, each token marked
    with whether this window is its max-context one."""
    layout = _PairLayout.of(tokenizer)
    question_ids = tokenizer(questions, add_special_tokens=False)["input_ids"]
    context = tokenizer(contexts, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    out: dict[str, list] = {"input_ids": [], "offsets": [], "max_context": [], "sample": []}
    if layout.types is not None:
        out["token_type_ids"] = []
    for sample, (question, ids, offsets) in enumerate(
        zip(question_ids, context["input_ids"], context["offset_mapping"], strict=True)
    ):
        question = question[:max_query_length]
        room = settings.max_length - len(question) - layout.special_tokens
        if room < 1:
            raise UserError(
                f"max_length {settings.max_length} leaves no room for the context after a question of "
                f"{len(question)} tokens: raise max_length or lower qa.max_query_length"
            )
        spans = doc_spans(len(ids), room, settings.doc_stride)
        best = max_context_windows(spans, len(ids))
        for window, (start, length) in enumerate(spans):
            input_ids, types, at = layout.join(question, ids[start : start + length])
            window_offsets: list = [None] * len(input_ids)
            max_context = [False] * len(input_ids)
            for k in range(length):
                window_offsets[at + k] = list(offsets[start + k])
                max_context[at + k] = best[start + k] == window
            out["input_ids"].append(input_ids)
            out["offsets"].append(window_offsets)
            out["max_context"].append(max_context)
            out["sample"].append(sample)
            if layout.types is not None:
                out["token_type_ids"].append(types)
    return out


def doc_spans(length: int, room: int, stride: int) -> list[tuple[int, int]]:
    """(start, length) of XTREME's (and BERT's) windows over `length` context tokens: `room` tokens
    each, a new one every `stride` tokens until one reaches the end."""
    spans, start = [], 0
    while True:
        size = min(length - start, room)
        spans.append((start, size))
        if start + size >= length:
            return spans
        start += min(size, stride)


def max_context_windows(spans: list[tuple[int, int]], length: int) -> list[int]:
    """For each context token, the index of its max-context window: the first with the highest
    min(left context, right context) + 0.01 x window length (run_squad's `_check_is_max_context`)."""
    best: list[tuple[float, int] | None] = [None] * length
    for window, (start, size) in enumerate(spans):
        end = start + size - 1
        for position in range(start, start + size):
            score = min(position - start, end - position) + 0.01 * size
            if best[position] is None or score > best[position][0]:
                best[position] = (score, window)
    return [entry[1] for entry in best]


@dataclass(frozen=True)
class _PairLayout:
    """Where a tokenizer puts its special tokens around a (question, context) pair, found by asking it
    (`<s> q </s></s> c </s>` for XLM-R, `[CLS] q [SEP] c [SEP]` for BERT), and the segment types."""

    before: list[int]
    between: list[int]
    after: list[int]
    types: tuple[list[int], int, list[int], int, list[int]] | None
    """Segment ids of (before, the question, between, the context, after); None: all zero."""

    @classmethod
    def of(cls, tokenizer) -> _PairLayout:
        encoded = tokenizer("a", "b")
        ids, sequences = encoded["input_ids"], encoded.sequence_ids(0)
        first = [k for k, s in enumerate(sequences) if s == 0]
        second = [k for k, s in enumerate(sequences) if s == 1]
        regions = (slice(0, first[0]), slice(first[-1] + 1, second[0]), slice(second[-1] + 1, len(ids)))
        found = segment_ids(encoded).get("token_type_ids")
        types = None
        if found is not None:
            row = found[0]
            types = (row[regions[0]], row[first[0]], row[regions[1]], row[second[0]], row[regions[2]])
        return cls(ids[regions[0]], ids[regions[1]], ids[regions[2]], types)

    @property
    def special_tokens(self) -> int:
        return len(self.before) + len(self.between) + len(self.after)

    def join(self, question: list[int], context: list[int]) -> tuple[list[int], list[int] | None, int]:
        """The pair's input ids, its segment ids (or None) and the position of the context's first token."""
        ids = self.before + question + self.between + context + self.after
        at = len(self.before) + len(question) + len(self.between)
        if self.types is None:
            return ids, None, at
        before, first, between, second, after = self.types
        return ids, before + [first] * len(question) + between + [second] * len(context) + after, at


def _cut_questions(tokenizer, questions: list[str], max_tokens: int) -> list[str]:
    encoded = tokenizer(questions, add_special_tokens=False, return_offsets_mapping=True)
    return [
        question if len(offsets) <= max_tokens else question[: offsets[max_tokens - 1][1]]
        for question, offsets in zip(questions, encoded["offset_mapping"], strict=True)
    ]


def _answer_tokens(offsets: list, answers: dict[str, list] | None, task_name: str) -> tuple[int, int]:
    """Token positions of the first gold answer in this window; (0, 0) when it is not inside."""
    if answers is None:
        raise UserError(f"task {task_name}: a training question has no answers; train on a labelled file")
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
