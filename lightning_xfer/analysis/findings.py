"""Findings written from the numbers: templated sentences, each with its interval and its caveat.

No sentence here is a hand-written claim. A result is called a gain (or a loss) only when its whole
interval lies above (below) zero; a tier with fewer than `MIN_LANGUAGES` languages, a single seed,
or a missing baseline gets a sentence that says what cannot be claimed, instead of a number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lightning_xfer.analysis.robustness import ALL, TIERS
from lightning_xfer.analysis.scale import size_label

MIN_LANGUAGES = 3
"""Fewer languages than this in a tier: its mean says more about those languages than about the tier."""


def _interval(row) -> str:
    return f"{row.gain:+.2f} points [{row.ci_low:+.2f}, {row.ci_high:+.2f}]"


def verdict(low: float, high: float) -> str:
    """How an interval reads: above zero, below zero, or undecided."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "has no interval"
    if low > 0:
        return "helps"
    if high < 0:
        return "hurts"
    return "cannot be told apart from no effect"


def tier_sentences(summary: pd.DataFrame) -> list[str]:
    """One paragraph per encoder x condition x target: each tier's gain, then the trend with size."""
    sentences = []
    for (encoder, condition, target), rows in summary.groupby(["encoder", "intermediate", "target"]):
        parts = []
        seeds = int(rows["n_seeds"].max())
        if seeds < 2:
            parts.append("only one seed: the interval covers languages (and examples) only, not seed noise")
        elif 2.0**-seeds > 0.05:
            parts.append(
                f"{seeds} seeds: the seed sign-flip test cannot reach p < 0.05 (its floor is {2.0**-seeds:.3g})"
            )
        for row in rows.set_index("tier").reindex([*TIERS, ALL]).dropna(subset=["gain"]).reset_index().itertuples():
            if row.n_languages < MIN_LANGUAGES and row.tier != ALL:
                parts.append(f"{row.tier}-resource: {row.n_languages} language(s), too few for a claim about the tier")
                continue
            parts.append(f"{row.tier}: {verdict(row.ci_low, row.ci_high)}, {_interval(row)} over "
                         f"{row.n_languages} languages x {row.n_seeds} seeds (sign-flip p = {row.p_value:.3g} over "
                         f"seeds, {row.p_value_languages:.3g} over languages)")  # fmt: skip
        first = rows.iloc[0]
        by_tier = rows.set_index("tier")
        if min(by_tier["n_languages"].get("low", 0), by_tier["n_languages"].get("high", 0)) >= MIN_LANGUAGES:
            ratio = (
                f"low/high gain ratio {first.ratio_low_high:.2f} [{first.ratio_ci_low:.2f}, {first.ratio_ci_high:.2f}]"
            )
            if by_tier.loc["high", "ci_low"] <= 0 <= by_tier.loc["high", "ci_high"]:
                ratio += " (unstable: the high-resource gain's interval includes zero)"
            parts.append(ratio)
        if np.isfinite(first.slope_ci_low) and np.isfinite(first.slope_ci_high):
            trend = (
                "shrinks"
                if first.slope_ci_high < 0
                else "grows"
                if first.slope_ci_low > 0
                else "shows no trend that the interval can tell from flat"
            )
            slope = f"{first.slope_per_log10_gib:+.2f} [{first.slope_ci_low:+.2f}, {first.slope_ci_high:+.2f}]"
            parts.append(f"with pre-training size the gain {trend}: {slope} points per tenfold pre-training GiB")
        sentences.append(f"**{condition} on {target}, {encoder}**: " + "; ".join(parts) + ".")
    return sentences


def overview_sentences(summary: pd.DataFrame) -> list[str]:
    """How many results per tier lie above zero, below it, or straddle it."""
    sentences = []
    for tier in TIERS:
        rows = summary[(summary["tier"] == tier) & (summary["n_languages"] >= MIN_LANGUAGES)]
        if rows.empty:
            sentences.append(f"No encoder x condition x target has {MIN_LANGUAGES}+ {tier}-resource languages: "
                             "nothing can be said about that tier.")  # fmt: skip
            continue
        above, below = int((rows["ci_low"] > 0).sum()), int((rows["ci_high"] < 0).sum())
        sentences.append(f"{tier}-resource languages: in {above} of {len(rows)} encoder x condition x target results "
                         f"the interval lies above zero, in {below} below, in {len(rows) - above - below} it includes "
                         f"zero (median gain {rows['gain'].median():+.2f} points).")  # fmt: skip
    return sentences


def scale_sentences(nulls: pd.DataFrame) -> list[str]:
    """Per condition x target x tier: the smallest size at which the gain's interval includes zero."""
    if nulls.empty or nulls["n_sizes"].max() < 2:
        return ["Fewer than two encoder sizes have a known parameter count and a tier interval: no claim about scale."]
    sentences = []
    for row in nulls[nulls["n_sizes"] >= 2].itertuples():
        where = f"{row.intermediate} on {row.target}, {row.tier}-resource"
        if row.encoder is None:
            sentences.append(f"{where}: the gain's interval excludes zero at every one of the {row.n_sizes} sizes.")
        else:
            sentences.append(f"{where}: the smallest size whose interval includes zero is {row.encoder} "
                             f"({size_label(row.parameters)} parameters), of {row.n_sizes} sizes.")  # fmt: skip
    return sentences


def limitation_sentences(
    missing_baselines: list[tuple[str, str, str]], unknown_languages: list[str], messages: list[str]
) -> list[str]:
    """What the data cannot support: missing baselines, unknown languages, and the table's problems."""
    sentences = list(messages)
    for encoder, condition, target in missing_baselines:
        sentences.append(f"{condition} on {target} with {encoder} has no `none` run: no gain can be computed for it "
                         "(its scores are still in the per-language tables).")  # fmt: skip
    if unknown_languages:
        sentences.append(f"The language table does not know {', '.join(unknown_languages)}: these languages have no "
                         "tier, size, script or family and are left out of every grouped result.")  # fmt: skip
    return sentences
