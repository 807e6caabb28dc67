"""The seeds planner: from a pilot table, how many seeds a study needs to detect a tier gain.

A tier's gain is estimated from per-seed gains (`seed_tier_gains`), so what decides power is the
spread of one seed's tier gain: the run-level noise that every language of a run shares, plus the
language-level noise averaged over the tier's languages,

    var(one seed's tier gain) = var_run + var_language / L.

Both components come from the pilot's seeds x languages grids of gains by the two-way analysis of
variance without replication (expected mean squares: the residual estimates var_language, the seed
mean square L var_run + var_language), pooled over the pilot's conditions with their degrees of
freedom. A pilot without intermediate conditions (only `none` runs) gives the spread of a score;
a gain is a difference of two independent runs, so its variances are doubled. The detectable gain
and the seeds needed come from statsmodels' power of the one-sample t-test, at the per-test level
that the report's own rule implies: the report adjusts all its tests together (Benjamini-Hochberg at
`ALPHA`), so a gain must clear a much stricter bar than 5% when it is one of 50 tests. Jung (2005,
"Sample size for FDR-control in microarray data analysis", Bioinformatics 21:3097) gives the level:
with m tests of which m1 are true gains, each found with power 1 - beta, BH at f expects
r1 = m1 (1 - beta) discoveries and keeps the false discovery rate at f when each test is run at

    alpha* = r1 f / ((m - m1) (1 - f)).

The planner takes m from the report (`Decisions.n_tests`) and m1 from the user (`report --true-gains`,
default 1: a lone true gain, the strictest case). tests/test_calibration.py simulates whole reports
(BH over every test) at the planned seeds and checks the power the plan promises.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
from scipy import optimize, special, stats
from statsmodels.stats.power import TTestPower

from lightning_xfer.analysis.claims import ALPHA
from lightning_xfer.analysis.gains import BASELINE
from lightning_xfer.analysis.robustness import ALL, TIERS, tiers_of
from lightning_xfer.analysis.scores import SOURCE_LANGUAGE

POWER = 0.8
"""The chance of detecting a true gain that the planner solves for."""
PLAN_COLUMNS = ["encoder", "target", "tier", "source", "n_languages", "pilot_seeds", "df", "var_run", "var_language",
                "sd_seed_gain", "test_alpha", "detectable_gain", "seeds_needed", "for_gain"]  # fmt: skip


def per_test_alpha(tests: int, true_gains: int = 1, power: float = POWER, fdr: float = ALPHA) -> float:
    """The two-sided level one test must clear for Benjamini-Hochberg at `fdr` over `tests` tests,
    `true_gains` of them real and each found with `power`, to find them (Jung 2005; module docstring).

    One test, or as many true gains as tests, leaves nothing to adjust for: the level is `fdr`.
    """
    if tests < 1 or true_gains < 1:
        raise ValueError(f"tests ({tests}) and true_gains ({true_gains}) must be at least 1")
    nulls = tests - min(true_gains, tests)
    if nulls == 0:
        return fdr
    return min(fdr, true_gains * power * fdr / (nulls * (1 - fdr)))


def variance_components(grid: np.ndarray) -> tuple[float, float, int]:
    """(var_run, var_language, degrees of freedom) of a complete seeds x languages grid, by two-way ANOVA.

    var_run is clipped at zero (the usual moment estimator can go negative by chance).
    """
    seeds, languages = grid.shape
    if seeds < 2:
        return np.nan, np.nan, 0
    grand = grid.mean()
    seed_effects = grid.mean(axis=1, keepdims=True) - grand
    language_effects = grid.mean(axis=0, keepdims=True) - grand
    residual = grid - grand - seed_effects - language_effects
    ms_seed = languages * float((seed_effects**2).sum()) / (seeds - 1)
    if languages < 2:
        return ms_seed, 0.0, seeds - 1  # one language: all its noise is the seed's
    ms_residual = float((residual**2).sum()) / ((seeds - 1) * (languages - 1))
    return max((ms_seed - ms_residual) / languages, 0.0), ms_residual, seeds - 1


def plan_seeds(scores: pd.DataFrame, gains: pd.DataFrame, for_gain: float = 2.0, power: float = POWER,
               tests: int = 1, true_gains: int = 1) -> pd.DataFrame:  # fmt: skip
    """Per encoder x target x tier: the pilot's variance components, the gain its seeds can detect
    with `power`, and the seeds needed to detect a gain of `for_gain` points, each at the level that
    Benjamini-Hochberg over the report's `tests` tests with `true_gains` real ones implies (one test:
    plain 5%). See the module docstring."""
    alpha = per_test_alpha(tests, true_gains, power)
    source = gains.assign(value=gains["gain"]) if len(gains) else scores[scores["intermediate"] == BASELINE]
    kind, factor = ("gains", 1.0) if len(gains) else ("none scores x 2", 2.0)
    source = source[source["language"] != SOURCE_LANGUAGE]
    rows = []
    for (encoder, target), frame in source.groupby(["encoder", "target"]):
        codes = sorted(frame["language"].unique())
        tiers = dict(zip(codes, tiers_of(codes), strict=True))
        for tier in (*TIERS, ALL):
            chosen = frame if tier == ALL else frame[frame["language"].map(tiers) == tier]
            if chosen.empty:
                continue
            pooled = [variance_components(grid) for grid in _complete_grids(chosen)]
            df = sum(p[2] for p in pooled)
            var_run = sum(p[0] * p[2] for p in pooled) / df * factor if df else np.nan
            var_language = sum(p[1] * p[2] for p in pooled) / df * factor if df else np.nan
            n_languages = chosen["language"].nunique()
            sd = math.sqrt(var_run + var_language / n_languages) if df else np.nan
            seeds = int(chosen["seed"].nunique())
            rows.append({"encoder": encoder, "target": target, "tier": tier, "source": kind,
                         "n_languages": n_languages, "pilot_seeds": seeds, "df": df, "var_run": var_run,
                         "var_language": var_language, "sd_seed_gain": sd, "test_alpha": alpha,
                         "detectable_gain": detectable_gain(sd, seeds, power, alpha),
                         "seeds_needed": seeds_needed(sd, for_gain, power, alpha), "for_gain": for_gain})  # fmt: skip
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)


def _complete_grids(frame: pd.DataFrame) -> list[np.ndarray]:
    """One seeds x languages grid per condition, keeping the languages every seed has."""
    grids = []
    for _, rows in frame.groupby("intermediate"):
        grid = rows.groupby(["seed", "language"])["value"].mean().unstack("language").dropna(axis=1)
        if grid.shape[1]:
            grids.append(grid.to_numpy(dtype=float))
    return grids


def detectable_gain(sd: float, seeds: int, power: float = POWER, alpha: float = ALPHA) -> float:
    """The smallest true tier gain that `seeds` seeds detect with `power` (two-sided t-test)."""
    if not np.isfinite(sd) or seeds < 2:
        return np.nan
    if sd == 0:
        return 0.0
    # brentq on our own power: statsmodels' solve_power drifts at the small levels false discovery
    # control sets (it gave a larger detectable gain at 0.0037 than at 0.00086 with 3 seeds)
    high = 1.0
    while t_test_power(high, seeds, alpha) < power:
        high *= 2
    effect = optimize.brentq(lambda e: t_test_power(e, seeds, alpha) - power, 0.0, high, xtol=1e-6)
    return float(effect * sd)


def t_test_power(effect: float, seeds: int, alpha: float = ALPHA) -> float:
    """Power of the two-sided one-sample t-test: statsmodels', or, where it returns NaN (both it and
    scipy's noncentral t do for large effects at small levels), the same probability averaged
    over the chi-square of the variance estimate: P(|Z + d| > c S), S^2 ~ chi2(n - 1) / (n - 1)."""
    value = float(TTestPower().power(effect_size=effect, nobs=seeds, alpha=alpha))
    if np.isfinite(value):
        return value
    df = seeds - 1
    critical = stats.t.ppf(1 - alpha / 2, df)
    shift = effect * math.sqrt(seeds)
    bound = critical * np.sqrt(_chi2_grid(df) / df)  # c S at 4,000 equally likely values of S^2
    return float(np.mean(special.ndtr(shift - bound) + special.ndtr(-bound - shift)))


@functools.cache
def _chi2_grid(df: int) -> np.ndarray:
    """The chi-square(df) quantiles at the midpoints of 4,000 equal-probability bins."""
    return stats.chi2.ppf((np.arange(4000) + 0.5) / 4000, df)


def seeds_needed(sd: float, gain: float, power: float = POWER, alpha: float = ALPHA) -> float:
    """The fewest seeds that detect a true tier gain of `gain` points with `power` (at least 2)."""
    if not np.isfinite(sd) or gain <= 0:
        return np.nan
    if sd == 0:
        return 2.0
    effect = gain / sd

    def enough(seeds: int) -> bool:
        return t_test_power(effect, seeds, alpha) >= power

    # power grows with the seeds: double to a bound, then bisect (statsmodels' own root finder
    # returns NaN when the answer sits at its bracket's edge, e.g. 2 seeds for a large gain)
    if enough(2):
        return 2.0
    high = 4
    while not enough(high):
        high *= 2
        if high > 1_000_000:
            return np.nan
    low = high // 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if enough(middle) else (middle, high)
    return float(high)
