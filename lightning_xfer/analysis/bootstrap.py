"""Resampling for the robustness intervals: seeds x languages (x examples), and a sign-flip test.

The gains of one encoder x condition x target form a grid, seeds by languages. A bootstrap
replicate draws the seeds with replacement (the same draw for every tier, so a tier ratio keeps
the seeds paired) and, independently, the languages with replacement *within each tier* (a tier
keeps its size); the statistic is the mean over the drawn seed x language cells. Replicates are
counts (how often each seed and language was drawn), so a replicate mean is one `einsum` and
thousands of replicates cost milliseconds. Where per-example scores exist, each cell's gain is
also perturbed by a paired bootstrap over its examples (`lightning_xfer.analysis.examples`).
Intervals are percentile intervals of the replicates.
"""

from __future__ import annotations

import itertools

import numpy as np


def resample_counts(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(n_boot, n): how many times each of n units is drawn, n - 1 draws per replicate.

    Drawing n - 1 rather than n makes the bootstrap variance of a mean s^2/n with the unbiased s^2;
    n draws give (n - 1)/n of it, which with 3 seeds leaves 95% intervals covering ~88% (measured on
    planted tables). A single unit cannot be resampled: it is drawn once, and adds no variance.
    """
    if n == 0:
        return np.zeros((n_boot, 0))
    return rng.multinomial(max(n - 1, 1), np.full(n, 1.0 / n), size=n_boot).astype(float)


def stratified_counts(strata: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(n_boot, len(strata)): units resampled with replacement within each stratum (tier)."""
    counts = np.zeros((n_boot, len(strata)))
    for stratum in np.unique(strata):
        members = np.flatnonzero(strata == stratum)
        counts[:, members] = resample_counts(len(members), n_boot, rng)
    return counts


def replicate_means(
    values: np.ndarray, seed_counts: np.ndarray, language_counts: np.ndarray, deltas: np.ndarray | None = None
) -> np.ndarray:
    """(n_boot,): the mean over the drawn cells of a seeds x languages grid (NaN cells skipped).

    `deltas` (n_boot, seeds, languages) shifts each cell per replicate (the example bootstrap).
    """
    present = ~np.isnan(values)
    filled = np.where(present, values, 0.0)
    grid = filled[None] if deltas is None else filled[None] + np.where(present[None], deltas, 0.0)
    numerator = np.einsum("bs,bsl,bl->b", seed_counts, np.broadcast_to(grid, (len(seed_counts), *values.shape)),
                          language_counts)  # fmt: skip
    denominator = np.einsum("bs,sl,bl->b", seed_counts, present.astype(float), language_counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / denominator, np.nan)


def replicate_language_means(
    values: np.ndarray, seed_counts: np.ndarray, deltas: np.ndarray | None = None
) -> np.ndarray:
    """(n_boot, languages): each language's mean over the drawn seeds."""
    present = ~np.isnan(values)
    filled = np.where(present, values, 0.0)
    grid = filled[None] if deltas is None else filled[None] + np.where(present[None], deltas, 0.0)
    numerator = np.einsum("bs,bsl->bl", seed_counts, np.broadcast_to(grid, (len(seed_counts), *values.shape)))
    denominator = seed_counts @ present.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / denominator, np.nan)


def weighted_slopes(y: np.ndarray, x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(n_boot,): least-squares slope of y (n_boot, n) on x (n,) with per-replicate weights (counts)."""
    w = np.where(np.isnan(y), 0.0, weights)
    y = np.nan_to_num(y)
    total = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        x_mean = (w * x).sum(axis=1) / total
        y_mean = (w * y).sum(axis=1) / total
        dx = x[None] - x_mean[:, None]
        spread = (w * dx * dx).sum(axis=1)
        return np.where(spread > 1e-12, (w * dx * (y - y_mean[:, None])).sum(axis=1) / spread, np.nan)


def percentile_interval(replicates: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The central `level` interval of the replicates (NaN when there are none)."""
    finite = replicates[np.isfinite(replicates)]
    if len(finite) == 0:
        return float("nan"), float("nan")
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def sign_flip_pvalue(differences: np.ndarray, rng: np.random.Generator, n_flips: int = 10000) -> float:
    """One-sided p-value of mean(differences) > 0 under random sign flips of the paired differences.

    Under the null (the condition does not change the expected score), each unit's difference is
    as likely negative as positive, so flipping signs draws from the null distribution of the mean.
    All 2^n flips are enumerated when that is at most `n_flips`; otherwise a Monte Carlo sample, with
    the observed assignment counted (p >= 1/(draws+1), never 0). The smallest attainable p is 2^-n.
    """
    differences = differences[np.isfinite(differences)]
    n = len(differences)
    if n == 0:
        return float("nan")
    observed = differences.mean()
    if 2**n <= n_flips:
        signs = np.array(list(itertools.product([1.0, -1.0], repeat=n)))
        return float(np.mean(signs @ differences / n >= observed - 1e-12))
    signs = rng.choice([1.0, -1.0], size=(n_flips, n))
    extreme = np.sum(signs @ differences / n >= observed - 1e-12)
    return float((extreme + 1) / (n_flips + 1))
