"""The robustness summary: the gain per resource tier, its interval and test, and how it varies with size.

One row per encoder x condition x target x tier (`high`, `mid`, `low`, and `all` zero-shot
languages together). Columns:

- `gain`: mean over the tier's zero-shot languages and seeds of `condition - none` (paired by seed);
- `ci_low`, `ci_high`: percentile bootstrap interval (`level`, default 95%). Resampled: the seeds
  (with replacement, one draw shared by all tiers of the group) and the tier's languages (with
  replacement, within the tier), and, for cells whose runs wrote per-example scores, the test
  examples (paired: the same ids for the condition and `none`). `resampled` says which applied;
- `p_value`: one-sided paired sign-flip test of gain > 0 with the seed as unit: if the condition
  changed nothing, its run and the `none` run of a seed are exchangeable, so the sign of that seed's
  gain (mean over the tier's languages) is a coin flip. Exact, whatever the noise shares, but with
  S seeds no p is below 2^-S (0.125 for 3 seeds);
- `p_value_languages`: the same test with languages as units (a language's gain averaged over
  seeds). Finer, but it treats languages as independent although they share each run's noise, so
  with few seeds it is optimistic; the interval, which resamples seeds, is the primary evidence;
- `n_languages`, `n_seeds`, `n_example_cells` (cells with a per-example bootstrap);
- `ratio_low_high` (low-tier gain / high-tier gain) and `slope_per_log10_gib` (least-squares slope of
  a language's gain on log10 of its CC-100 GiB; languages XLM-R never saw have no size and are left
  out), each with its `..._ci_low`/`..._ci_high` from the same replicates; they describe the whole
  group and repeat on each of its rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lightning_xfer.analysis import bootstrap
from lightning_xfer.analysis.examples import example_deltas
from lightning_xfer.analysis.scores import SOURCE_LANGUAGE, language_facts

TIERS = ("high", "mid", "low")
"""Resource tiers as `lightning_xfer.languages.Language.resource_tier` defines them."""
ALL = "all"
"""The tier label of the row pooling every zero-shot language, those the language table lacks too."""
SUMMARY_COLUMNS = ["encoder", "intermediate", "target", "tier", "gain", "ci_low", "ci_high", "p_value",
                   "p_value_languages", "n_languages", "n_seeds", "n_example_cells", "ratio_low_high",
                   "ratio_ci_low", "ratio_ci_high", "slope_per_log10_gib", "slope_ci_low", "slope_ci_high",
                   "resampled"]  # fmt: skip


def robustness_summary(
    gains: pd.DataFrame,
    runs_root: Path | None = None,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """The summary table described in the module docstring, from `paired_gains` rows."""
    rng = np.random.default_rng(seed)
    facts = language_facts(sorted(gains["language"].unique())).set_index("language")
    zero_shot = gains[gains["language"] != SOURCE_LANGUAGE]
    rows: list[dict] = []
    for (encoder, condition, target), cells in zero_shot.groupby(["encoder", "intermediate", "target"]):
        rows += _group_rows(cells, facts, runs_root, n_boot, level, rng)
        for row in rows[-len(TIERS) - 1 :]:
            row.update(encoder=encoder, intermediate=condition, target=target)
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def _group_rows(
    cells: pd.DataFrame,
    facts: pd.DataFrame,
    runs_root: Path | None,
    n_boot: int,
    level: float,
    rng: np.random.Generator,
) -> list[dict]:
    """The rows of one encoder x condition x target: its gains as a seeds x languages grid, resampled."""
    grid = cells.groupby(["seed", "language"])["gain"].mean().unstack("language")
    seeds, codes = [int(s) for s in grid.index], [str(c) for c in grid.columns]
    values = grid.to_numpy(dtype=float)
    tiers = facts.loc[codes, "tier"].fillna("unknown").to_numpy()  # unknown languages: a stratum of their own
    seed_counts = bootstrap.resample_counts(len(seeds), n_boot, rng)
    language_counts = bootstrap.stratified_counts(tiers, n_boot, rng)
    deltas, n_example_cells = example_deltas(cells, seeds, codes, runs_root, n_boot, rng)
    resampled = "seeds x languages in tier" + (" x examples (paired)" if deltas is not None else "")
    language_gain = np.nanmean(values, axis=0)
    replicates, rows = {}, []
    for tier in (*TIERS, ALL):
        in_tier = np.ones(len(codes), bool) if tier == ALL else tiers == tier
        replicates[tier] = bootstrap.replicate_means(values, seed_counts, language_counts * in_tier, deltas)
        low, high = bootstrap.percentile_interval(replicates[tier], level)
        tier_values = values[:, in_tier]
        present = ~np.isnan(tier_values)
        rows.append({
            "tier": tier,
            "gain": float(np.nanmean(tier_values)) if present.any() else np.nan,
            "ci_low": low, "ci_high": high,
            "p_value": bootstrap.sign_flip_pvalue(_seed_means(tier_values), rng),
            "p_value_languages": bootstrap.sign_flip_pvalue(language_gain[in_tier], rng),
            "n_languages": int(present.any(axis=0).sum()), "n_seeds": int(present.any(axis=1).sum()),
            "n_example_cells": n_example_cells, "resampled": resampled,
        })  # fmt: skip
    ratio = _ratio(rows, replicates, level)
    slope = _slope(values, codes, facts, seed_counts, language_counts, deltas, level)
    for row in rows:
        row.update(ratio, **slope)
    return rows


def _seed_means(values: np.ndarray) -> np.ndarray:
    """Each seed's mean over the languages it has (NaN for a seed without any)."""
    present = ~np.isnan(values)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(present.any(axis=1), np.nansum(values, axis=1) / present.sum(axis=1), np.nan)


def _ratio(rows: list[dict], replicates: dict[str, np.ndarray], level: float) -> dict:
    gain = {row["tier"]: row["gain"] for row in rows}
    with np.errstate(invalid="ignore", divide="ignore"):
        point = gain["low"] / gain["high"] if gain["high"] else np.nan
        low, high = bootstrap.percentile_interval(replicates["low"] / replicates["high"], level)
    return {"ratio_low_high": point, "ratio_ci_low": low, "ratio_ci_high": high}


def _slope(
    values: np.ndarray,
    codes: list[str],
    facts: pd.DataFrame,
    seed_counts: np.ndarray,
    language_counts: np.ndarray,
    deltas: np.ndarray | None,
    level: float,
) -> dict:
    """Slope of a language's gain on log10 CC-100 GiB, with the interval from the same replicates."""
    sizes = facts.loc[codes, "cc100_gib"].to_numpy(dtype=float)
    sized = np.isfinite(sizes) & (sizes > 0)
    if sized.sum() < 2:
        return {"slope_per_log10_gib": np.nan, "slope_ci_low": np.nan, "slope_ci_high": np.nan}
    x = np.log10(sizes[sized])
    observed = np.nanmean(values[:, sized], axis=0)[None]
    point = bootstrap.weighted_slopes(observed, x, np.ones((1, len(x))))[0]
    means = bootstrap.replicate_language_means(values, seed_counts, deltas)[:, sized]
    replicates = bootstrap.weighted_slopes(means, x, language_counts[:, sized])
    low, high = bootstrap.percentile_interval(replicates, level)
    return {"slope_per_log10_gib": float(point), "slope_ci_low": low, "slope_ci_high": high}
