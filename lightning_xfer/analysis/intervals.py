"""Small-sample intervals with the run (seed) as the unit: t on per-seed values, Fieller for a ratio.

A study's seeds are few (3 to 5), so normal or percentile-bootstrap intervals over them run narrow:
with 3 seeds a percentile bootstrap covered ~88% where it promised 95%. Student's t with S - 1
degrees of freedom is exact for normal per-seed values and the usual small-sample choice; the
calibration tests (`tests/test_calibration.py`) hold it to its level on tables with a known truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Estimate:
    """A mean over seeds with its interval and two-sided test of zero (NaN where S < 2)."""

    value: float
    low: float
    high: float
    p_value: float
    n: int
    """Seeds behind it."""
    se: float


def t_estimate(per_seed: np.ndarray, level: float = 0.95, extra_variance: float = 0.0) -> Estimate:
    """Mean of per-seed values, Student-t interval (S - 1 df) and the one-sample t-test of zero.

    `extra_variance` adds a variance the seeds cannot show (the test set's sampling variance, from a
    paired bootstrap over examples) to the squared standard error: it can only widen the interval.
    """
    values = np.asarray(per_seed, dtype=float)
    values = values[np.isfinite(values)]
    n = len(values)
    if n == 0:
        return Estimate(np.nan, np.nan, np.nan, np.nan, 0, np.nan)
    mean = float(values.mean())
    if n < 2:
        return Estimate(mean, np.nan, np.nan, np.nan, n, np.nan)
    se = float(np.sqrt(values.var(ddof=1) / n + extra_variance))
    if se == 0.0:  # identical seeds: no spread to scale by; zero is excluded unless the mean is zero
        return Estimate(mean, mean, mean, 1.0 if mean == 0 else 0.0, n, 0.0)
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * se)
    p_value = float(2 * stats.t.sf(abs(mean) / se, n - 1))
    return Estimate(mean, mean - half, mean + half, p_value, n, se)


def fieller_ratio(numerator: np.ndarray, denominator: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """(ratio of means, low, high) for paired per-seed values, by Fieller's theorem.

    The interval is the set of ratios r for which mean(numerator - r * denominator) is not rejected
    by a t-test at `level`. It is bounded only when the denominator's mean is itself distinguishable
    from zero; otherwise (low, high) are NaN: the ratio is not printed. A ratio of two means is
    the quantity a delta-method or percentile interval gets most wrong when its denominator is small.
    """
    a, b = np.asarray(numerator, float), np.asarray(denominator, float)
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    n = len(a)
    if n < 2 or b.mean() == 0:
        return (float(a.mean() / b.mean()) if n and b.mean() else np.nan), np.nan, np.nan
    t2 = stats.t.ppf(0.5 + level / 2, n - 1) ** 2
    va, vb, cab = a.var(ddof=1) / n, b.var(ddof=1) / n, np.cov(a, b, ddof=1)[0, 1] / n
    ma, mb = a.mean(), b.mean()
    # (ma - r mb)^2 <= t2 (va - 2 r cab + r^2 vb)  <=>  A r^2 + B r + C <= 0
    quad_a, quad_b, quad_c = mb * mb - t2 * vb, -2 * (ma * mb - t2 * cab), ma * ma - t2 * va
    discriminant = quad_b * quad_b - 4 * quad_a * quad_c
    if quad_a <= 0 or discriminant < 0:
        return float(ma / mb), np.nan, np.nan
    root = np.sqrt(discriminant)
    low, high = sorted(((-quad_b - root) / (2 * quad_a), (-quad_b + root) / (2 * quad_a)))
    return float(ma / mb), float(low), float(high)


def spearman_interval(x: np.ndarray, y: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """(Spearman's rho, low, high): scipy's rho, Fisher-z interval with Bonett and Wright's (2000)
    variance (1 + rho^2 / 2) / (n - 3). NaN interval below 4 units; all NaN for a constant variable."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    n = len(x)
    if n < 2 or np.unique(x).size < 2 or np.unique(y).size < 2:
        return np.nan, np.nan, np.nan
    rho = float(stats.spearmanr(x, y).statistic)
    if n < 4:
        return rho, np.nan, np.nan
    z = np.arctanh(np.clip(rho, -0.999999, 0.999999))
    half = stats.norm.ppf(0.5 + level / 2) * np.sqrt((1 + rho * rho / 2) / (n - 3))
    return rho, float(np.tanh(z - half)), float(np.tanh(z + half))
