"""From the results table to the scores the analysis compares: test stage, each target's primary metric.

The table holds every score a run wrote (validation and test, every metric, intermediate tasks'
own scores). The research question is about one number per target and language, the one the
benchmark reports, on the test split; everything downstream starts from `primary_scores`.
"""

from __future__ import annotations

import pandas as pd

from lightning_xfer.languages import languages
from lightning_xfer.results_table import REQUIRED, primary_metrics, primary_rows, target_test_rows

KEYS = ["encoder", "intermediate", "target", "seed", "language"]
"""What identifies one score: a run (encoder, condition, target, seed) on one language."""
SOURCE_LANGUAGE = "en"
"""The language every task is trained in: its score is not zero-shot and is left out of the gains."""


def missing_required(table: pd.DataFrame) -> list[str]:
    """The columns of `REQUIRED` the table lacks: with any, no score can be read from it."""
    return [column for column in REQUIRED if column not in table.columns]


def usable_table(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The table with fall-backs for optional columns, and a message per column that is missing.

    A missing `seed` means one run per cell (seed 0), a missing `run` means no per-example files
    can be found; the report goes on with a note. A missing column of `REQUIRED` leaves nothing to
    analyse: the caller gets the messages and should write a report that says so.
    """
    table = table.copy()
    missing = missing_required(table)
    messages = [f"the table has no `{column}` column: no scores can be read from it" for column in missing]
    if "seed" not in table.columns:
        messages.append("the table has no `seed` column: every score is treated as one seed (seed 0)")
        table["seed"] = 0
    if "run" not in table.columns:
        messages.append("the table has no `run` column: per-example files cannot be found")
        table["run"] = ""
    return table, messages


def primary_scores(table: pd.DataFrame) -> pd.DataFrame:
    """One row per run and language: the test score of the target's primary metric.

    Repeated rows of one cell are averaged. Columns: `KEYS`, run, value.
    """
    chosen = primary_rows(table).astype({"seed": int, "language": str})
    scores = chosen.groupby(KEYS, as_index=False).agg(value=("value", "mean"), run=("run", "first"))
    return scores[[*KEYS, "run", "value"]]


def ambiguous_targets(table: pd.DataFrame) -> list[str]:
    """Targets with several metrics, none of which the catalogue names primary: nothing to analyse."""
    test = target_test_rows(table)
    return sorted(set(test["target"]) - set(primary_metrics(test)))


def language_facts(codes: list[str]) -> pd.DataFrame:
    """Per language code: tier, CC-100 GiB, script, family (NaN for codes the table does not know)."""
    table = languages()
    rows = [
        {"language": c, "tier": table[c].resource_tier, "cc100_gib": table[c].cc100_gib,
         "script": table[c].script, "family": table[c].family}
        if c in table else {"language": c}
        for c in codes
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["language", "tier", "cc100_gib", "script", "family"])


def with_language_facts(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with the language's tier, size, script and family joined on `language`."""
    facts = language_facts(sorted(frame["language"].unique()))
    return frame.merge(facts, on="language", how="left")


def unknown_languages(scores: pd.DataFrame) -> list[str]:
    """Codes in the table that the language table does not have (no tier, size, script)."""
    return sorted(set(scores["language"]) - set(languages()))


def scores_by_language(scores: pd.DataFrame, target: str) -> pd.DataFrame:
    """For one target: language x (encoder, condition), the mean over seeds, source language first."""
    chosen = scores[scores["target"] == target]
    wide = chosen.groupby(["language", "encoder", "intermediate"])["value"].mean().unstack(["encoder", "intermediate"])
    order = sorted(wide.index, key=lambda code: (code != SOURCE_LANGUAGE, code))
    return wide.loc[order]
