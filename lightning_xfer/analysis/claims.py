"""Which results the report may call a claim: enough seeds, and the false discovery rate controlled.

A report makes many tests at once (every encoder x condition x target x tier, every slope), so at
5% each it would call a few null results "helps" by chance alone. Every test the report decides on
is put into one family and adjusted by Benjamini-Hochberg at `ALPHA` (statsmodels'
`multipletests`); a result is a claim only when its adjusted p (`q_value`) is below `ALPHA`, its
seeds reach `MIN_SEEDS`, and (for a tier) it has `MIN_LANGUAGES` languages. A claim's 95% interval
then excludes zero too, since q >= p.

Below `MIN_SEEDS` the report is descriptive: it gives estimates and says the design cannot support a
claim. One seed gives no interval at all: a run's noise is shared by all its languages, so one
run cannot tell a gain from a lucky seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from lightning_xfer.analysis.robustness import ALL

MIN_SEEDS = 3
"""Seeds a result needs before the report makes a claim about it (`report --min-seeds`)."""
MIN_LANGUAGES = 3
"""Languages a tier needs for a claim about the tier: fewer say more about those languages."""
ALPHA = 0.05
"""False discovery rate (Benjamini-Hochberg) over every test the report decides on."""

HELPS, HURTS, NO_CLAIM, DESCRIPTIVE, FEW_LANGUAGES = "helps", "hurts", "no claim", "descriptive", "too few languages"
GROWS, SHRINKS = "grows", "shrinks"


@dataclass
class Decisions:
    """The summary and the scale slopes with `q_value` and `verdict` columns, and how many tests."""

    summary: pd.DataFrame
    scale_slopes: pd.DataFrame
    n_tests: int
    min_seeds: int
    alpha: float


def decide(
    summary: pd.DataFrame,
    scale_slopes: pd.DataFrame | None = None,
    min_seeds: int = MIN_SEEDS,
    alpha: float = ALPHA,
) -> Decisions:
    """Adjust every eligible test of the report together and write each result's verdict.

    Tests: each tier row (`p_value`), each group's slope on pre-training size (`slope_p_value`, once
    per group), and each scale slope (gain against parameter count, `p_value`). A result below
    `min_seeds` seeds, or a tier below `MIN_LANGUAGES` languages, is not tested (verdict
    `descriptive` / `too few languages`), so it costs the others no power.
    """
    summary = summary.copy()
    scale = scale_slopes.copy() if scale_slopes is not None else pd.DataFrame(columns=["p_value", "min_seeds"])
    enough = summary["n_seeds"] >= min_seeds
    languages_ok = (summary["tier"] == ALL) | (summary["n_languages"] >= MIN_LANGUAGES)
    tier_tested = enough & languages_ok & summary["p_value"].notna()
    slope_tested = enough & (summary["tier"] == ALL) & summary["slope_p_value"].notna()
    scale_tested = (scale["min_seeds"] >= min_seeds) & scale["p_value"].notna()
    pvalues = np.concatenate([summary.loc[tier_tested, "p_value"], summary.loc[slope_tested, "slope_p_value"],
                              scale.loc[scale_tested, "p_value"]]).astype(float)  # fmt: skip
    qvalues = multipletests(pvalues, alpha=alpha, method="fdr_bh")[1] if len(pvalues) else np.array([])
    n_tier, n_slope = int(tier_tested.sum()), int(slope_tested.sum())
    summary["q_value"], summary["slope_q_value"], scale["q_value"] = np.nan, np.nan, np.nan
    summary.loc[tier_tested, "q_value"] = qvalues[:n_tier]
    summary.loc[slope_tested, "slope_q_value"] = qvalues[n_tier : n_tier + n_slope]
    scale.loc[scale_tested, "q_value"] = qvalues[n_tier + n_slope :]
    summary["verdict"] = [
        _verdict(row.gain, row.q_value, alpha, HELPS, HURTS) if tested
        else DESCRIPTIVE if row.n_seeds < min_seeds else FEW_LANGUAGES if not ok else NO_CLAIM
        for row, tested, ok in zip(summary.itertuples(), tier_tested, languages_ok, strict=True)
    ]  # fmt: skip
    summary["slope_verdict"] = [
        _verdict(row.slope_per_log10_gib, row.slope_q_value, alpha, GROWS, SHRINKS) if tested else DESCRIPTIVE
        for row, tested in zip(summary.itertuples(), slope_tested, strict=True)
    ]  # fmt: skip
    if len(scale):
        scale["verdict"] = [_verdict(row.slope, row.q_value, alpha, GROWS, SHRINKS) if tested else DESCRIPTIVE
                            for row, tested in zip(scale.itertuples(), scale_tested, strict=True)]  # fmt: skip
    return Decisions(summary, scale, len(pvalues), min_seeds, alpha)


def _verdict(estimate: float, q_value: float, alpha: float, up: str, down: str) -> str:
    if not np.isfinite(q_value) or q_value >= alpha:
        return NO_CLAIM
    return up if estimate > 0 else down


def claims(decisions: Decisions) -> pd.DataFrame:
    """The tier results that are claims (`helps` / `hurts`), strongest evidence first."""
    rows = decisions.summary[decisions.summary["verdict"].isin([HELPS, HURTS])]
    return rows.sort_values(["q_value", "encoder", "intermediate", "target"]).reset_index(drop=True)
