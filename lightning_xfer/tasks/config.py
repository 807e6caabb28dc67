"""How a run uses one task: where its data is and which languages to evaluate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from lightning_xfer.families.span_qa import SpanQASettings


@dataclass
class TaskConfig:
    """One task of a run, as written under `data.tasks` (and copied to `model.tasks`) in a config."""

    name: str
    """Catalogue name of the task (`python -m lightning_xfer tasks` lists them)."""
    data_dir: str | None = None
    """Directory with the task's original files; None reads the Hugging Face hub (generated tasks
    are written to the cache instead)."""
    files: dict[str, str] | None = None
    """Split (`train`, `validation`, `test`) -> file name under `data_dir`, replacing the catalogue's
    layout. May use {lang}, {lang3}, {language}, {Language} and glob patterns (matches are joined,
    e.g. all UD treebanks of a language)."""
    train_file: str | None = None
    """The English training file (absolute, or relative to `data_dir`). Needed when the task trains
    on another task's data (XQuAD on SQuAD, XNLI on MNLI) that is not on the hub for you."""
    languages: list[str] | None = None
    """Languages to evaluate in `validate`/`test`; None means every language of the task (or of
    `benchmark`)."""
    benchmark: str | None = None
    """`xtreme` or `xtreme-r`: evaluate the languages that benchmark scores for this task."""
    validation_languages: list[str] | None = None
    """Languages validated during `fit` (model selection); None means `languages`, [] none. XTREME selects on
    English dev data: [en]."""
    max_length: int | None = None
    """Tokens per input; None takes the catalogue's (128, or 384 for QA)."""
    max_train_examples: int | None = None
    """Train on a seeded random sample of this many examples (None: all)."""
    sample_seed: int | None = None
    """Seed of the `max_train_examples` sample; None: the run's seed (`seed_everything`), so runs
    with different seeds train on different samples. Set it to keep one sample across seeds."""
    validation_holdout: float | None = None
    """Share (0 to 1) of the English training file held out as the English validation set and
    removed from training, for data with no separate English dev file; None: validate on the
    validation files. The split is the same in every run (seed 0, whatever the run's seed), so
    runs select on the same examples. Span QA holds out whole paragraphs: every question on a
    held-out context (and only those) is validated, so no validation question shares its paragraph
    with a training one. Other tasks hold out single examples (sentences, pairs, questions)."""
    max_eval_examples: int | None = None
    """Evaluate each language on the first this-many examples (None: all). For smoke runs only."""
    exclude_train_ids_from: list[str] = field(default_factory=list)
    """SQuAD-format files whose question ids, and every question on those ids' paragraphs, are
    dropped from training. XQuAD is 1,190 questions of SQuAD v1.1 dev: list the XQuAD file here
    when training on that dev file."""
    head_layer: int | None = None
    """Hidden layer this task's head reads, a `transformers` `hidden_states` index; None: the encoder's
    `hidden_layer`, or for retrieval the family's layer: XTREME's middle layer for Tatoeba/BUCC
    (`hidden_states[8]` of 12, `[14]` of 24), the last for LAReQA/Mewsli-X."""
    loss_weight: float = 1.0
    """Weight of this task's loss when several tasks train together."""
    protocol: Literal["xtreme", "ours"] = "xtreme"
    """`xtreme`: reproduce XTREME's and XTREME-R's scripts where ours differ (BUCC's layer; LAReQA's and
    Mewsli-X's lower-casing, pooler, logit scale and query length; retrieval embedded in float32).
    `ours`: the project's choices instead (README, "Faithful to the benchmarks")."""
    qa: SpanQASettings | None = None
    """Span QA's windows and decoding (`max_query_length`, `max_answer_length`, `n_best`, `windows`,
    `answer_text`); None: their defaults. Only span-QA tasks (SQuAD, XQuAD, MLQA, TyDiQA) read it,
    so it is an error on any other task."""
