"""Findings written from the numbers: templated sentences, the claims first, then the description.

No sentence here is a hand-written claim. The words "helps", "hurts", "grows" and "shrinks" are
written only for results that `lightning_xfer.analysis.claims.decide` made claims (enough seeds and
languages, Benjamini-Hochberg adjusted q below its level); everything else is described with its
estimate and interval and the words "no claim".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lightning_xfer.analysis.claims import DESCRIPTIVE, HELPS, HURTS, MIN_LANGUAGES, Decisions, claims
from lightning_xfer.analysis.robustness import ALL, TIERS
from lightning_xfer.analysis.scale import size_label


def _points(value: float, low: float, high: float, unit: str = "points") -> str:
    if not (np.isfinite(low) and np.isfinite(high)):
        return f"{value:+.2f} {unit} (no interval)"
    return f"{value:+.2f} {unit} [{low:+.2f}, {high:+.2f}]"


def _tier_label(tier: str) -> str:
    return "all zero-shot languages" if tier == ALL else f"{tier}-resource languages"


def claim_sentences(decisions: Decisions) -> list[str]:
    """The claims that survive, strongest first: each with its interval, q, seeds and languages."""
    sentences = []
    for row in claims(decisions).itertuples():
        sentences.append(f"**{row.intermediate} {row.verdict} {row.target}** ({row.encoder}), "
                         f"{_tier_label(row.tier)}: {_points(row.gain, row.ci_low, row.ci_high)}, "
                         f"q = {row.q_value:.3g}; {row.n_seeds} seeds x {row.n_languages} languages.")  # fmt: skip
    slopes = decisions.summary[(decisions.summary["tier"] == ALL)
                               & decisions.summary["slope_verdict"].isin(["grows", "shrinks"])]  # fmt: skip
    for row in slopes.itertuples():
        slope = _points(row.slope_per_log10_gib, row.slope_ci_low, row.slope_ci_high, "points per tenfold GiB")
        sentences.append(f"**The gain of {row.intermediate} on {row.target} {row.slope_verdict} with a language's "
                         f"pre-training data** ({row.encoder}): {slope}, q = {row.slope_q_value:.3g}; "
                         f"{row.n_seeds} seeds x {row.n_languages} languages.")  # fmt: skip
    scale = decisions.scale_slopes
    if len(scale):
        for row in scale[scale["verdict"].isin(["grows", "shrinks"])].itertuples():
            slope = _points(row.slope, row.ci_low, row.ci_high, "points per tenfold parameters")
            sentences.append(f"**The gain of {row.intermediate} on {row.target}, {_tier_label(row.tier)}, "
                             f"{row.verdict} with encoder size**: {slope}, q = {row.q_value:.3g}; {row.n_runs} runs "
                             f"of {row.n_sizes} sizes.")  # fmt: skip
    return sentences


def design_sentences(decisions: Decisions) -> list[str]:
    """What the design supports: too few seeds for any claim, some results untested, or no claim."""
    summary, sentences = decisions.summary, []
    if summary.empty:
        return sentences
    most = int(summary["n_seeds"].max())
    if most < decisions.min_seeds:
        sentences.append(f"**The design cannot support a claim**: the most seeds any result has is {most}, and a "
                         f"claim needs at least {decisions.min_seeds} (`report --min-seeds`). A run's noise is shared "
                         "by all its languages, so languages do not stand in for seeds. Every number below is "
                         "descriptive; `report --power` tells how many seeds a claim would need.")  # fmt: skip
        return sentences
    untested = summary[(summary["tier"] == ALL) & (summary["verdict"] == DESCRIPTIVE)]
    if len(untested):
        sentences.append(f"{len(untested)} result(s) have fewer than {decisions.min_seeds} seeds: they are described "
                         "below, not tested.")  # fmt: skip
    n_claims = int(summary["verdict"].isin([HELPS, HURTS]).sum())
    sentences.append(f"{decisions.n_tests} tests were decided together at a false discovery rate of "
                     f"{decisions.alpha:.0%} (Benjamini-Hochberg); {n_claims} tier result(s) survive as "
                     "claims.")  # fmt: skip
    return sentences


def result_sentences(summary: pd.DataFrame) -> list[str]:
    """One line per encoder x condition x target: each tier's estimate, interval and verdict."""
    sentences = []
    for (encoder, condition, target), rows in summary.groupby(["encoder", "intermediate", "target"]):
        by_tier = rows.set_index("tier").reindex([*TIERS, ALL]).dropna(subset=["gain"])
        seeds = int(rows["n_seeds"].max())
        parts = []
        for tier, row in by_tier.iterrows():
            label = "all" if tier == ALL else tier
            parts.append(f"{label} {_points(row.gain, row.ci_low, row.ci_high)} ({int(row.n_languages)} "
                         f"languages; {row.verdict})")  # fmt: skip
        # ratio and slope are per group (the same on every tier row), but only the all-languages
        # row is tested for the slope, so its verdict is the group's
        first = rows[rows["tier"] == ALL].iloc[0] if (rows["tier"] == ALL).any() else rows.iloc[0]
        if np.isfinite(first.ratio_ci_low) and np.isfinite(first.ratio_ci_high):
            parts.append(f"low/high ratio {first.ratio_low_high:.2f} [{first.ratio_ci_low:.2f}, "
                         f"{first.ratio_ci_high:.2f}] (Fieller)")  # fmt: skip
        if np.isfinite(first.slope_per_log10_gib):
            slope = _points(first.slope_per_log10_gib, first.slope_ci_low, first.slope_ci_high, "points")
            parts.append(f"slope on log10 pre-training GiB {slope} ({first.slope_verdict})")
        sentences.append(f"{condition} on {target}, {encoder} ({seeds} seed{'s' if seeds != 1 else ''}): "
                         + "; ".join(parts) + ".")  # fmt: skip
    return sentences


def overview_sentences(summary: pd.DataFrame) -> list[str]:
    """Per tier: how many results are claims either way, no claim, or only described."""
    sentences = []
    for tier in TIERS:
        rows = summary[summary["tier"] == tier]
        if rows.empty:
            continue
        counts = rows["verdict"].value_counts()
        described = ", ".join(f"{counts[v]} {v}" for v in counts.index)
        sentences.append(f"{tier}-resource languages, {len(rows)} results: {described} (median estimate "
                         f"{rows['gain'].median():+.2f} points; a tier needs {MIN_LANGUAGES}+ languages for a "
                         "claim).")  # fmt: skip
    return sentences


def scale_sentences(nulls: pd.DataFrame, scale_slopes: pd.DataFrame | None = None) -> list[str]:
    """Gain against encoder size: the run-level slope's verdict, and the smallest size whose interval
    includes zero (a description: an interval that includes zero is not evidence of no gain)."""
    if nulls.empty or nulls["n_sizes"].max() < 2:
        return ["Fewer than two encoder sizes have a known parameter count and a tier interval: no claim about scale."]
    sentences = []
    if scale_slopes is not None and len(scale_slopes):
        for row in scale_slopes.itertuples():
            slope = _points(row.slope, row.ci_low, row.ci_high, "points per tenfold parameters")
            sentences.append(f"{row.intermediate} on {row.target}, {row.tier}: gain against log10 encoder size "
                             f"{slope} over {row.n_runs} runs ({row.verdict}).")  # fmt: skip
    for row in nulls[nulls["n_sizes"] >= 2].itertuples():
        where = f"{row.intermediate} on {row.target}, {row.tier}-resource"
        if row.encoder is None:
            sentences.append(f"{where}: the gain's interval excludes zero at every one of the {row.n_sizes} sizes.")
        else:
            sentences.append(f"{where}: the smallest size whose interval includes zero is {row.encoder} "
                             f"({size_label(row.parameters)} parameters), of {row.n_sizes} sizes.")  # fmt: skip
    return sentences


def limitation_sentences(
    missing_baselines: list[tuple[str, str, str]],
    unknown_languages: list[str],
    messages: list[str],
    missing_cells: pd.DataFrame | None = None,
) -> list[str]:
    """What the data cannot support: missing baselines and cells, unknown languages, the table's problems."""
    sentences = list(messages)
    for encoder, condition, target in missing_baselines:
        sentences.append(f"{condition} on {target} with {encoder} has no `none` run: no gain can be computed for it "
                         "(its scores are still in the per-language tables).")  # fmt: skip
    if missing_cells is not None and len(missing_cells):
        for (encoder, condition, target, seed), rows in missing_cells.groupby(
            ["encoder", "intermediate", "target", "seed"]
        ):
            sentences.append(f"missing cells: the {condition} run on {target} with {encoder}, seed {seed}, has no "
                             f"score for {', '.join(rows['language'])} (other runs have them): left out of every "
                             "gain paired with it, in the papers' table too.")  # fmt: skip
    if unknown_languages:
        sentences.append(f"The language table does not know {', '.join(unknown_languages)}: these languages have no "
                         "tier, size, script or family and are left out of every grouped result.")  # fmt: skip
    return sentences
