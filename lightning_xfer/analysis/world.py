"""Pre-training and the embedded world: what phase 1 gave each language, and the truth to check against.

A study that pre-trains its encoder (`pretrain:` in the study file) tests its masked-token accuracy
per language; in the embedded world that shows the planted resource effect before any task is
trained. The world's languages were made with known overlap, word order, script and amount of
text (`lightning_xfer.synthetic.world.LANGUAGES`), so the report can set each language's transfer
gap and gain beside the factors that made it, and rank-correlate them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lightning_xfer.analysis.gains import BASELINE
from lightning_xfer.analysis.intervals import spearman_interval
from lightning_xfer.analysis.robustness import TIERS
from lightning_xfer.analysis.scores import SOURCE_LANGUAGE, with_language_facts

PRETRAIN = "pretrain"
"""The `phase` of pre-training runs in the results table."""


def pretraining_scores(table: pd.DataFrame) -> pd.DataFrame:
    """Masked-token accuracy per encoder and language after pre-training (test stage, mean over runs).

    Columns: encoder, language, accuracy, tier, cc100_gib, script, family."""
    columns = ["encoder", "language", "accuracy", "tier", "cc100_gib", "script", "family"]
    if "phase" not in table.columns:
        return pd.DataFrame(columns=columns)
    rows = table[(table["phase"] == PRETRAIN) & (table["stage"] == "test") & (table["metric"] == "accuracy")]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    means = rows.groupby(["encoder", "language"], as_index=False).agg(accuracy=("value", "mean"))
    return with_language_facts(means)


def pretraining_sentences(pretraining: pd.DataFrame) -> list[str]:
    """Per encoder: mean masked-token accuracy per tier, English's, and the high - low difference."""
    sentences = []
    for encoder, rows in pretraining.groupby("encoder"):
        others = rows[rows["language"] != SOURCE_LANGUAGE]
        by_tier = others.groupby("tier")["accuracy"].mean().reindex(TIERS).dropna()
        english = rows.loc[rows["language"] == SOURCE_LANGUAGE, "accuracy"]
        parts = [f"{tier} {value:.1f} ({int((others['tier'] == tier).sum())} languages)" for tier, value in
                 by_tier.items()]  # fmt: skip
        text = f"{encoder}: masked-token accuracy after pre-training, mean per tier: {', '.join(parts)}"
        text += f"; English {english.iloc[0]:.1f}" if len(english) else ""
        if {"high", "low"} <= set(by_tier.index):
            text += f". High minus low: {by_tier['high'] - by_tier['low']:+.1f} points."
        sentences.append(text)
    return sentences


def world_factors(gaps: pd.DataFrame, gains: pd.DataFrame) -> pd.DataFrame:
    """One row per derived world language that the scores test: the factors it was made with, its
    transfer gap without intermediate training (mean over encoders, targets and seeds) and its mean
    gain per condition. Empty when no world language was tested."""
    from lightning_xfer.synthetic.world import WORLD

    made = {lang.code: lang for lang in WORLD.languages[1:]}
    tested = sorted(set(gaps["language"]) & set(made))
    if not tested:
        return pd.DataFrame()
    rows = []
    for code in tested:
        lang = made[code]
        baseline = gaps[(gaps["language"] == code) & (gaps["intermediate"] == BASELINE)]["gap"]
        row = {"language": code, "tier": lang.tier, "pretraining_sentences": lang.pretraining_sentences,
               "shared_words": lang.shared_words, "cognates": lang.cognates, "order": lang.order,
               "script": lang.script, "gap_none": baseline.mean()}  # fmt: skip
        for condition, rows_of in gains[gains["language"] == code].groupby("intermediate"):
            row[f"gain_{condition}"] = rows_of["gain"].mean()
        rows.append(row)
    return pd.DataFrame(rows)


def factor_sentences(factors: pd.DataFrame) -> list[str]:
    """How the gap and the gains follow the planted factors: Spearman rank correlations over languages."""
    if len(factors) < 3:
        return []
    columns = {"shared words": "shared_words", "pre-training text": "pretraining_sentences"}
    sentences = []
    for value in [c for c in factors.columns if c == "gap_none" or c.startswith("gain_")]:
        known = factors.dropna(subset=[value])
        if len(known) < 3:
            continue
        label = "the transfer gap without intermediate training" if value == "gap_none" else \
            f"the gain of {value.removeprefix('gain_')}"  # fmt: skip
        correlations = [_spearman(name, known[column], known[value]) for name, column in columns.items()
                        if known[column].nunique() > 1]  # fmt: skip
        extremes = known.sort_values(value)
        low, high = extremes.iloc[0], extremes.iloc[-1]
        sentences.append(
            f"Over the {len(known)} derived languages, {label} has Spearman rank correlation (95% interval, "
            "languages as the sample; a description, not a claim) "
            f"{', '.join(correlations)}; smallest {low['language']} ({low[value]:+.1f}: {_made(low)}), "
            f"largest {high['language']} ({high[value]:+.1f}: {_made(high)})."
        )
    return sentences


def _spearman(name: str, factor: pd.Series, value: pd.Series) -> str:
    """`name rho [low, high]`: Spearman's rank correlation with its Fisher-z interval.

    A handful of languages with few distinct factor values gives a wide interval; it is printed so
    that nobody reads a trend into a rho whose interval spans zero."""
    rho, low, high = spearman_interval(factor.to_numpy(dtype=float), value.to_numpy(dtype=float))
    interval = f" [{low:+.2f}, {high:+.2f}]" if np.isfinite(low) else " (no interval: too few languages)"
    return f"{name} {rho:+.2f}{interval}"


def _made(row: pd.Series) -> str:
    return (f"{row['tier']} resource, {row['shared_words']:.0%} shared words, {row['order']}, "
            f"{row['script']}")  # fmt: skip
