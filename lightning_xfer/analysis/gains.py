"""Gains over the `none` baseline (paired by seed) and transfer gaps (English minus a language).

Pairing by seed matters: runs with the same seed share the target task's training subsample and
initialisation of the head, so `condition - none` within a seed cancels part of the seed noise that
two unpaired averages would keep.
"""

from __future__ import annotations

import pandas as pd

from lightning_xfer.analysis.scores import SOURCE_LANGUAGE, with_language_facts

BASELINE = "none"
"""The condition without intermediate training (`lightning_xfer.study.spec.NONE`)."""


def paired_gains(scores: pd.DataFrame) -> pd.DataFrame:
    """Condition minus `none`, per encoder x target x seed x language, where both runs exist.

    Columns: encoder, intermediate, target, seed, language, value, baseline, gain, run, baseline_run.
    A cell whose baseline run is missing (another seed, another language) is left out: an unpaired
    difference would mix seed noise into the gain.
    """
    keys = ["encoder", "target", "seed", "language"]
    base = scores[scores["intermediate"] == BASELINE][[*keys, "value", "run"]]
    base = base.rename(columns={"value": "baseline", "run": "baseline_run"})
    treated = scores[scores["intermediate"] != BASELINE]
    gains = treated.merge(base, on=keys, how="inner")
    gains["gain"] = gains["value"] - gains["baseline"]
    columns = ["encoder", "intermediate", "target", "seed", "language", "value", "baseline", "gain", "run",
               "baseline_run"]  # fmt: skip
    return gains[columns].reset_index(drop=True)


def missing_baselines(scores: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(encoder, condition, target) that have runs but no `none` run to compare with."""
    groups = scores.groupby(["encoder", "target"])["intermediate"].agg(set)
    return sorted(
        (encoder, condition, target)
        for (encoder, target), conditions in groups.items()
        if BASELINE not in conditions
        for condition in conditions
    )


def unpaired_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """Per encoder x condition x target: scores left out of the gains because no `none` run has the
    same seed and language (only where some `none` run exists; `missing_baselines` covers the rest).

    Columns: encoder, intermediate, target, unpaired (count), seeds (the seeds concerned).
    """
    keys = ["encoder", "target", "seed", "language"]
    base = scores[scores["intermediate"] == BASELINE]
    treated = scores[(scores["intermediate"] != BASELINE) & scores.set_index(["encoder", "target"]).index.isin(
        base.set_index(["encoder", "target"]).index)]  # fmt: skip
    merged = treated.merge(base[keys].assign(paired=True), on=keys, how="left")
    lone = merged[merged["paired"].isna()]
    return lone.groupby(["encoder", "intermediate", "target"], as_index=False).agg(
        unpaired=("language", "size"), seeds=("seed", lambda s: sorted(set(s)))
    )


def transfer_gaps(scores: pd.DataFrame) -> pd.DataFrame:
    """English score minus each other language's score, per run (same encoder, condition, seed).

    Columns: encoder, intermediate, target, seed, language, gap. Runs without an English score
    (targets that do not test English) have no gap.
    """
    keys = ["encoder", "intermediate", "target", "seed"]
    source = scores[scores["language"] == SOURCE_LANGUAGE][[*keys, "value"]].rename(columns={"value": "source"})
    others = scores[scores["language"] != SOURCE_LANGUAGE].merge(source, on=keys, how="inner")
    others["gap"] = others["source"] - others["value"]
    return others[[*keys, "language", "gap"]].reset_index(drop=True)


def gain_table(scores: pd.DataFrame) -> pd.DataFrame:
    """The papers' table: encoder x target rows, the language average per condition and its gain.

    The language average is over every language the target scores (English included, as XTREME
    averages), first within a seed, then over seeds. `<condition> - none` is paired by seed *and*
    language: within a seed, the mean over the languages both runs scored of their difference, then
    the mean over the seeds both conditions ran. Two identical runs, one missing a language, gain 0
    (an unpaired difference of averages would show the missing language's distance from the mean);
    `missing_cells` names what was left out, and the report warns with it.
    """
    per_seed = scores.groupby(["encoder", "target", "intermediate", "seed"])["value"].mean()
    table = per_seed.unstack("intermediate").groupby(["encoder", "target"]).mean()
    gains = paired_gains(scores)
    if len(gains):
        per_seed_gain = gains.groupby(["encoder", "target", "intermediate", "seed"])["gain"].mean()
        paired = per_seed_gain.groupby(["encoder", "target", "intermediate"]).mean().unstack("intermediate")
        for condition in paired.columns:
            table[f"{condition} - none"] = paired[condition]
    table.columns.name = None
    return table.reset_index()


def missing_cells(scores: pd.DataFrame) -> pd.DataFrame:
    """Languages a run lacks that another run of the same encoder and target scored.

    Columns: encoder, intermediate, target, seed, language. Such a cell drops out of every gain
    paired with it; the report names each one instead of averaging silently over fewer languages.
    """
    columns = ["encoder", "intermediate", "target", "seed", "language"]
    if scores.empty:
        return pd.DataFrame(columns=columns)
    expected = scores[["encoder", "target", "language"]].drop_duplicates()
    runs = scores[["encoder", "intermediate", "target", "seed"]].drop_duplicates()
    grid = runs.merge(expected, on=["encoder", "target"])
    present = scores[columns].drop_duplicates().assign(present=True)
    merged = grid.merge(present, on=columns, how="left")
    return merged[merged["present"].isna()][columns].sort_values(columns).reset_index(drop=True)


def missing_runs(scores: pd.DataFrame) -> pd.DataFrame:
    """Runs of the grid that have no score at all: a condition x target x seed that another run of the
    same encoder shows exists. Columns: encoder, intermediate, target, seed.

    `missing_cells` only sees languages of runs that are there; a run that never finished (or was
    left out of the table) would otherwise drop its whole cell from the gains without a word.
    """
    columns = ["encoder", "intermediate", "target", "seed"]
    if scores.empty:
        return pd.DataFrame(columns=columns)
    present = scores[columns].drop_duplicates()
    axes = [present[["encoder", c]].drop_duplicates() for c in ("intermediate", "target", "seed")]
    grid = axes[0].merge(axes[1], on="encoder").merge(axes[2], on="encoder")
    merged = grid.merge(present.assign(present=True), on=columns, how="left")
    return merged[merged["present"].isna()][columns].sort_values(columns).reset_index(drop=True)


def language_means(frame: pd.DataFrame, value: str) -> pd.DataFrame:
    """`value` averaged over seeds per encoder x condition x target x language, with language facts."""
    keys = ["encoder", "intermediate", "target", "language"]
    means = frame.groupby(keys, as_index=False).agg(**{value: (value, "mean"), "n_seeds": ("seed", "nunique")})
    return with_language_facts(means)


def grouped(frame: pd.DataFrame, value: str, by: str) -> pd.DataFrame:
    """Mean of `value` per encoder x condition x target x `by` (tier, script, family): languages
    are averaged over seeds first, so each language counts once. Columns add n_languages."""
    means = language_means(frame, value).dropna(subset=[by])
    keys = ["encoder", "intermediate", "target", by]
    return means.groupby(keys, as_index=False).agg(**{value: (value, "mean"), "n_languages": ("language", "nunique")})
