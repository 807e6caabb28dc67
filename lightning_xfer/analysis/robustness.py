"""The robustness summary: the gain per resource tier, its interval and test, and how it varies with size.

The run (seed) is the unit of replication. A fine-tuning seed lifts or sinks every language of a
run together, so languages within a run are not independent draws, and an interval that resamples
them as if they were is too narrow (it called 15% of null cells "helps" or "hurts" with 3 seeds).
So, per encoder x condition x target:

1. each seed's tier gain is the mean over the tier's zero-shot languages of `condition - none`,
   paired by seed and language (`seed_tier_gains`; a language missing from either run of a seed is
   left out of that seed only);
2. the tier gain is the mean of those per-seed gains, with a Student-t interval over seeds (S - 1
   degrees of freedom) and the t-test of zero (`intervals.t_estimate`). Where runs wrote per-example
   scores, the test set's sampling variance (a paired bootstrap over examples) is added to the
   squared standard error: it widens an interval, never replaces the seed level.

The claim is about the languages the study tested (a benchmark's languages are fixed, not a sample);
the seeds are the sample. One row per encoder x condition x target x tier (`high`, `mid`, `low`, and
`all` zero-shot languages). Columns (`SUMMARY_COLUMNS`):

- `gain`, `ci_low`, `ci_high`, `se`, `p_value` (two-sided t-test of zero), `n_seeds`, `n_languages`;
- `ratio_low_high` with a Fieller interval on per-seed (low, high) gains: NaN where the high-tier
  gain cannot be told from zero, since then any ratio is compatible with the data;
- `slope_per_log10_gib`: per seed, the least-squares slope of a language's gain on log10 of its
  pre-training GiB (languages with a known size); then the mean slope with its t-interval over seeds
  and `slope_p_value`. Ratio and slope describe the whole group and repeat on its rows;
- `n_example_cells` and `interval`: how the interval was made.

Verdicts (`helps`, `hurts`) are added by `lightning_xfer.analysis.claims`, which also controls the
false discovery rate across every test the report makes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lightning_xfer.analysis.examples import example_deltas
from lightning_xfer.analysis.intervals import Estimate, fieller_ratio, t_estimate
from lightning_xfer.analysis.scores import SOURCE_LANGUAGE, language_facts

TIERS = ("high", "mid", "low")
"""Resource tiers as `lightning_xfer.languages.Language.resource_tier` defines them."""
ALL = "all"
"""The tier label of the row pooling every zero-shot language, those the language table lacks too."""
GROUP = ["encoder", "intermediate", "target"]
"""One result: an encoder, an intermediate condition and a target."""
SUMMARY_COLUMNS = [*GROUP, "tier", "gain", "ci_low", "ci_high", "p_value", "n_languages", "n_seeds", "se",
                   "n_example_cells", "ratio_low_high", "ratio_ci_low", "ratio_ci_high", "slope_per_log10_gib",
                   "slope_ci_low", "slope_ci_high", "slope_p_value", "interval"]  # fmt: skip


def tiers_of(codes: list[str]) -> np.ndarray:
    """Each language's tier (`unknown` for codes the language table lacks)."""
    facts = language_facts(codes).set_index("language")
    return facts.loc[codes, "tier"].fillna("unknown").to_numpy()


def seed_tier_gains(gains: pd.DataFrame) -> pd.DataFrame:
    """Per encoder x condition x target x seed x tier: the mean gain over the tier's zero-shot languages.

    Columns: encoder, intermediate, target, seed, tier, gain, n_languages. `gains` are `paired_gains` rows.
    """
    zero_shot = gains[gains["language"] != SOURCE_LANGUAGE]
    if zero_shot.empty:
        return pd.DataFrame(columns=[*GROUP, "seed", "tier", "gain", "n_languages"])
    tiers = dict(zip(sorted(zero_shot["language"].unique()), tiers_of(sorted(zero_shot["language"].unique())),
                     strict=True))  # fmt: skip
    frame = zero_shot.assign(tier=zero_shot["language"].map(tiers))
    keys = [*GROUP, "seed"]
    by_tier = frame.groupby([*keys, "tier"], as_index=False).agg(
        gain=("gain", "mean"), n_languages=("language", "size")
    )
    pooled = frame.groupby(keys, as_index=False).agg(gain=("gain", "mean"), n_languages=("language", "size"))
    rows = pd.concat([by_tier[by_tier["tier"].isin(TIERS)], pooled.assign(tier=ALL)], ignore_index=True)
    return rows[[*GROUP, "seed", "tier", "gain", "n_languages"]]


def robustness_summary(
    gains: pd.DataFrame,
    runs_root: Path | None = None,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """The summary table described in the module docstring, from `paired_gains` rows.

    `n_boot` is the number of example resamples, used only where per-example files exist.
    """
    rng = np.random.default_rng(seed)
    zero_shot = gains[gains["language"] != SOURCE_LANGUAGE]
    facts = language_facts(sorted(zero_shot["language"].unique())).set_index("language")
    facts["tier"] = facts["tier"].fillna("unknown")  # unknown languages: only in the `all` row
    rows: list[dict] = []
    for (encoder, condition, target), cells in zero_shot.groupby(GROUP):
        for row in _group_rows(cells, facts, runs_root, n_boot, level, rng):
            rows.append({"encoder": encoder, "intermediate": condition, "target": target, **row})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def _group_rows(
    cells: pd.DataFrame,
    facts: pd.DataFrame,
    runs_root: Path | None,
    n_boot: int,
    level: float,
    rng: np.random.Generator,
) -> list[dict]:
    """The rows of one encoder x condition x target, from its seeds x languages grid of gains."""
    grid = cells.groupby(["seed", "language"])["gain"].mean().unstack("language")
    seeds, codes = [int(s) for s in grid.index], [str(c) for c in grid.columns]
    values = grid.to_numpy(dtype=float)
    tiers = facts.loc[codes, "tier"].to_numpy()
    deltas, n_example_cells = example_deltas(cells, seeds, codes, runs_root, n_boot, rng)
    interval = "t over seeds" + (" + examples (paired bootstrap)" if deltas is not None else "")
    per_seed, rows = {}, []
    for tier in (*TIERS, ALL):
        in_tier = np.ones(len(codes), bool) if tier == ALL else tiers == tier
        per_seed[tier] = _seed_means(values[:, in_tier])
        extra = _example_variance(deltas[:, :, in_tier], values[:, in_tier]) if deltas is not None else 0.0
        estimate = t_estimate(per_seed[tier], level, extra)
        present = ~np.isnan(values[:, in_tier])
        rows.append({"tier": tier, "gain": estimate.value, "ci_low": estimate.low, "ci_high": estimate.high,
                     "p_value": estimate.p_value, "se": estimate.se, "n_languages": int(present.any(axis=0).sum()),
                     "n_seeds": int(present.any(axis=1).sum()), "n_example_cells": n_example_cells,
                     "interval": interval})  # fmt: skip
    ratio, ratio_low, ratio_high = fieller_ratio(per_seed["low"], per_seed["high"], level)
    slope = _language_size_slope(values, facts.loc[codes, "cc100_gib"].to_numpy(dtype=float), level)
    for row in rows:
        row.update(ratio_low_high=ratio, ratio_ci_low=ratio_low, ratio_ci_high=ratio_high,
                   slope_per_log10_gib=slope.value, slope_ci_low=slope.low, slope_ci_high=slope.high,
                   slope_p_value=slope.p_value)  # fmt: skip
    return rows


def _seed_means(values: np.ndarray) -> np.ndarray:
    """Each seed's mean over the languages it has (NaN for a seed without any)."""
    present = ~np.isnan(values)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(present.any(axis=1), np.nansum(values, axis=1) / present.sum(axis=1), np.nan)


def _example_variance(deltas: np.ndarray, values: np.ndarray) -> float:
    """Variance over example resamples of the tier estimate (mean over seeds of per-seed means)."""
    present = ~np.isnan(values)
    if not present.any():
        return 0.0
    shifted = np.where(present[None], deltas, np.nan)  # (n_boot, seeds, languages)
    with np.errstate(invalid="ignore"):
        per_seed = np.nanmean(shifted, axis=2)
        estimate = np.nanmean(per_seed, axis=1)
    return float(np.nanvar(estimate, ddof=1))


def _language_size_slope(values: np.ndarray, sizes: np.ndarray, level: float) -> Estimate:
    """Per seed: least-squares slope of gain on log10 pre-training GiB over the sized languages (three
    or more, two distinct sizes); then the mean slope with its t-interval over seeds."""
    sized = np.isfinite(sizes) & (sizes > 0)
    x = np.log10(sizes[sized]) if sized.any() else np.array([])
    slopes = []
    for row in values[:, sized]:
        keep = np.isfinite(row)
        dx = x[keep] - x[keep].mean() if keep.any() else x[keep]
        if keep.sum() >= 3 and (dx * dx).sum() > 1e-12:
            slopes.append(float((dx * (row[keep] - row[keep].mean())).sum() / (dx * dx).sum()))
    return t_estimate(np.array(slopes), level)
