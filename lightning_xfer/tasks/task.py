"""A task in the catalogue: a declaration of data, head family, labels, languages and metric.

Tasks are values, not subclasses: everything that differs between, say, PAN-X and UD-POS is a
field here (which files, which labels, which metric), and the code that acts on them lives in the
task family (`lightning_xfer.families.tagging.Tagging` for both).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lightning_xfer.families.family import TaskFamily

Reader = Callable[[Path, str], list[dict]]
"""Reads one file (path, language) into examples of the task family's schema."""
Metric = Callable[[Mapping[str, Any], Mapping[str, Any], str], dict[str, float]]
"""(predictions, references, language) -> {official metric name: value x100}."""


@dataclass(frozen=True)
class LocalFiles:
    """A task's files as the benchmark distributes them, relative to a data directory.

    Templates may use `{lang}` (ISO 639-1), `{lang3}` (Tatoeba's three-letter code) and
    `{language}` / `{Language}` (the English name, lower-case or capitalised).
    """

    files: Mapping[str, str]
    """Split (`train`, `validation`, `test`) -> file name template."""
    reader: Reader


@dataclass(frozen=True)
class HubDataset:
    """Where the task lives on the Hugging Face hub, and how a hub row becomes an example."""

    path: str
    config: str | None
    """Config name template (same placeholders as `LocalFiles`)."""
    splits: Mapping[str, str]
    """Our split -> the hub's split name."""
    convert: Callable[[dict, str], dict | None]
    """(hub row, language) -> example in the family's schema, or None to drop the row."""


@dataclass(frozen=True)
class Task:
    """One task: its data, head family, labels, languages and metric."""

    name: str
    family: TaskFamily
    description: str
    role: Literal["intermediate", "target"]
    metric: Metric
    primary_metric: str
    """The key of `metric`'s result that benchmarks average (`accuracy`, `f1`, ...)."""
    languages: tuple[str, ...] = ("en",)
    """Languages evaluated (zero-shot for every one but the training language): all the task has."""
    benchmark_languages: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """The languages each benchmark scores, when they differ (XTREME-R added languages to some)."""
    labels: tuple[str, ...] = ()
    label_aliases: Mapping[str, str] = field(default_factory=dict)
    """Spellings found in some distributions of the data, mapped to the label set's name."""
    benchmarks: tuple[str, ...] = ()
    domain: str = ""
    local: LocalFiles | None = None
    hub: HubDataset | None = None
    train_from: Task | None = None
    """The task whose training split trains this one (XNLI trains on MNLI)."""
    max_length: int = 128
    needs_training: bool = True
    """False for retrieval tasks that XTREME evaluates straight from the pretrained encoder."""
    submission: Any = None
    """The task's `SubmissionFormat` in the benchmark's layout; None: the family's usual one."""
    train_converter: Callable[[list[dict]], list[dict]] | None = None
    """Turns the `train_from` task's examples into this task's schema (SQuAD QA -> retrieval pairs)."""
    generator: Callable[[Path], None] | None = None
    """Writes the task's files into a directory: a generated task needs no `data_dir`. Where it has a
    `fingerprint` attribute, a change of it writes the cached files again."""
    labels_from_data: Callable[[Path], tuple[str, ...]] | None = None
    """For label sets that ship with the data (CCG supertags): reads them from the data directory."""

    def splits(self) -> tuple[str, ...]:
        """Splits the task's sources provide."""
        sources = [self.local.files if self.local else {}, self.hub.splits if self.hub else {}]
        return tuple(split for split in ("train", "validation", "test") if any(split in s for s in sources))
