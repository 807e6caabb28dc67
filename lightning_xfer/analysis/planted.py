"""Results tables with planted effects: the ground truth the analysis is tested against.

A real study cannot tell us whether the report's intervals are right, because nobody knows the true
gain. Here we do: every score is built from a known tier gain plus noise of known structure, in the
results table's own format (`lightning_xfer.study.table.COLUMNS`), so the report can be run on it and
its intervals checked against the truth (`true_tier_gains`).

The score of one run on one language is

    score = base(encoder, target, language) + gain(encoder, condition, target, tier) + deviation(language)
            + run_noise(run) + cell_noise(run, language)

where `base` falls with the language's pre-training size (the transfer gap), `gain` is zero for
`none`, `deviation` (sd `language_sd`, one draw per encoder x condition x target x language) makes
languages of a tier differ around their tier's gain, `run_noise` (sd `seed_sd`) is shared by every
language of a run, as a lucky seed lifts them all, and `cell_noise` (sd `cell_sd`) is per language.
The truth a tier's interval should cover is the tier gain: the mean over the tier's languages of
the population the languages are drawn from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lightning_xfer.languages import languages
from lightning_xfer.results_table import COLUMNS

PRIMARY_METRIC = {"xnli": "accuracy", "panx": "f1", "xcopa": "accuracy", "xquad": "f1", "tatoeba": "accuracy"}
"""Primary metrics of the targets the generator knows, as the task catalogue declares them (a test
checks they agree; the catalogue itself is not imported because it loads torch, seconds per use)."""


def _default_tier_gains() -> dict[str, dict[str, float]]:
    # base gains most on low-resource languages; large gains less, and least on low: the two
    # encoders disagree on which tier is helped most, which a report must show, not average away.
    return {"xlm-roberta-base": {"high": 2.0, "mid": 3.0, "low": 4.0},
            "xlm-roberta-large": {"high": 1.0, "mid": 1.5, "low": 0.5}}  # fmt: skip


@dataclass
class PlantedStudy:
    """The design of a generated study and the effects planted in it."""

    encoders: tuple[str, ...] = ("xlm-roberta-base", "xlm-roberta-large")
    """Encoder names; each needs an entry in `tier_gains`."""
    conditions: tuple[str, ...] = ("none", "squad", "mnli")
    """Intermediate conditions; `none` is the baseline and gains nothing."""
    targets: tuple[str, ...] = ("xnli", "panx")
    """Target tasks (keys of `PRIMARY_METRIC`)."""
    languages: tuple[str, ...] = ("en", "de", "fr", "ru", "zh", "ar", "hi", "et", "ta", "te", "ur", "eu", "kk",
                                  "sw", "af", "yo", "jv", "gu", "qu")  # fmt: skip
    """Languages scored; `en` is the source language. Default: 6 high, 6 mid, 6 low (XTREME-R codes)."""
    seeds: tuple[int, ...] = (0, 1, 2)
    """Seeds: each is one run per encoder x condition x target."""
    tier_gains: dict[str, dict[str, float]] = field(default_factory=_default_tier_gains)
    """encoder -> tier -> gain (points) of a condition with factor 1 on a target with factor 1."""
    condition_factor: dict[str, float] = field(default_factory=lambda: {"squad": 1.0, "mnli": 0.5})
    """Scales the tier gains per condition (a missing condition: 1.0)."""
    target_factor: dict[str, float] = field(default_factory=lambda: {"xnli": 1.0, "panx": 0.5})
    """Scales the tier gains per target (a missing target: 1.0)."""
    language_sd: float = 0.5
    """Spread of a language's gain around its tier's gain (points)."""
    seed_sd: float = 1.0
    """Run-level noise shared by all languages of a run (points)."""
    cell_sd: float = 1.0
    """Noise of one run on one language (points)."""
    examples: int = 0
    """Per-example scores per run and language (0: none). When set, a cell's value is the mean of
    its 0/1 example scores x100, with example difficulty shared by every run (paired examples)."""
    missing: float = 0.0
    """Share of (run, zero-shot language) scores left out of the table at random: missing cells."""
    seed: int = 0
    """Random seed of the draw."""


@dataclass
class Planted:
    """A generated results table, its truth and (optionally) its per-example scores."""

    table: pd.DataFrame
    truth: pd.DataFrame
    """encoder, intermediate, target, tier, gain, tested_gain: the planted tier gain (of the population
    of languages) and the mean true gain of the tier's languages in this table, the quantity a
    study's interval is about (its languages are fixed; its seeds are the sample). Tier `all`
    pools every zero-shot language."""
    examples: dict[tuple[str, str, str], np.ndarray] = field(default_factory=dict)
    """(run id, task, language) -> 0/1 score per example; example i is the same item in every run."""

    def write_examples(self, runs_root: Path) -> None:
        """Write `<runs_root>/<run>/examples/<task>-<language>.jsonl` as a study run would."""
        for (run, task, language), scores in self.examples.items():
            path = Path(runs_root) / run / "examples" / f"{task}-{language}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            lines = (json.dumps({"id": f"{task}-{language}-{i}", "score": float(s)}) for i, s in enumerate(scores))
            path.write_text("\n".join(lines) + "\n")


def true_tier_gains(study: PlantedStudy) -> pd.DataFrame:
    """The planted gain per encoder x condition x target x tier (conditions other than `none`)."""
    rows = [
        {"encoder": e, "intermediate": c, "target": t, "tier": tier,
         "gain": gain * study.condition_factor.get(c, 1.0) * study.target_factor.get(t, 1.0)}
        for e in study.encoders for c in study.conditions if c != "none" for t in study.targets
        for tier, gain in study.tier_gains[e].items()
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["encoder", "intermediate", "target", "tier", "gain"])


def _base_score(encoder_index: int, language: str) -> float:
    """English near 80; other languages lower by a gap that shrinks with pre-training size."""
    gib = languages()[language].cc100_gib or 0.1
    gap = 0.0 if language == "en" else max(2.0, 22.0 - 6.0 * np.log10(gib + 1.0))
    return 78.0 + 3.0 * encoder_index - gap


def generate(study: PlantedStudy | None = None) -> Planted:
    """Draw one results table from `study` (defaults: `PlantedStudy()`)."""
    study = study or PlantedStudy()
    rng = np.random.default_rng(study.seed)
    truth = true_tier_gains(study)
    gain_of = {(r.encoder, r.intermediate, r.target, r.tier): r.gain for r in truth.itertuples()}
    difficulty = {(t, lang): rng.random(study.examples) for t in study.targets for lang in study.languages}
    rows, examples, true_gains = [], {}, []
    tier_of = {lang: languages()[lang].resource_tier for lang in study.languages}
    for e_index, encoder in enumerate(study.encoders):
        base = {lang: _base_score(e_index, lang) for lang in study.languages}
        for condition in study.conditions:
            for target in study.targets:
                deviation = {lang: rng.normal(0.0, study.language_sd) for lang in study.languages}
                if condition != "none":
                    true_gains += [(encoder, condition, target, lang,
                                    gain_of[(encoder, condition, target, tier_of[lang])] + deviation[lang])
                                   for lang in study.languages if lang != "en"]  # fmt: skip
                for seed in study.seeds:
                    run = f"target.{encoder}.{condition}.{target}.s{seed}"
                    run_noise = rng.normal(0.0, study.seed_sd)
                    cell_noise = rng.normal(0.0, study.cell_sd, size=len(study.languages))
                    for lang, noise in zip(study.languages, cell_noise, strict=True):
                        gain = 0.0
                        if condition != "none" and lang != "en":
                            gain = gain_of[(encoder, condition, target, tier_of[lang])] + deviation[lang]
                        value = base[lang] + gain + run_noise + noise
                        count = 1000
                        if study.examples:
                            scores = (difficulty[(target, lang)] < np.clip(value / 100, 0, 1)).astype(float)
                            examples[(run, target, lang)] = scores
                            value, count = 100.0 * scores.mean(), study.examples
                        if study.missing and lang != "en" and rng.random() < study.missing:
                            continue
                        rows.append(["planted", run, encoder, condition, target, seed, "target", "test", target,
                                     lang, PRIMARY_METRIC[target], float(value), count, "full", 300])  # fmt: skip
                    # a validation row, which the analysis must leave out (it reads the test stage)
                    rows.append(["planted", run, encoder, condition, target, seed, "target", "validation",
                                 target, "en", PRIMARY_METRIC[target], 99.0, 100, "full", 300])  # fmt: skip
    return Planted(pd.DataFrame(rows, columns=COLUMNS), _with_tested_gains(truth, true_gains), examples)


def _with_tested_gains(truth: pd.DataFrame, true_gains: list[tuple]) -> pd.DataFrame:
    """Add `tested_gain` (each tier's mean over its languages' true gains) and the `all` tier's rows."""
    per_language = pd.DataFrame(true_gains, columns=["encoder", "intermediate", "target", "language", "gain"])
    if per_language.empty:
        return truth.assign(tested_gain=pd.Series(dtype=float))
    per_language["tier"] = [languages()[code].resource_tier for code in per_language["language"]]
    keys = ["encoder", "intermediate", "target"]
    by_tier = per_language.groupby([*keys, "tier"], as_index=False)["gain"].mean()
    pooled = per_language.groupby(keys, as_index=False)["gain"].mean().assign(tier="all")
    tested = pd.concat([by_tier, pooled], ignore_index=True).rename(columns={"gain": "tested_gain"})
    merged = tested.merge(truth, on=[*keys, "tier"], how="left")
    return merged[["encoder", "intermediate", "target", "tier", "gain", "tested_gain"]]
