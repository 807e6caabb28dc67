"""A study's results table, collected from its complete runs, and the papers' pivot of it.

The table's columns, reading, writing, keys and primary metrics live in `lightning_xfer.results_table`
(one home for the contract between the study, the report and what comes after); this module fills
it from a study's runs. `pivot` gives the papers' view: target x condition, the language average of
the target's primary metric, and the gain over `none` (paired by seed and language).

A full and a LoRA run of one model are two `encoders:` entries of the study with their own names
(run ids must differ), so every analysis that groups by `encoder` keeps them apart.
"""

from __future__ import annotations

import json

import pandas as pd

from lightning_xfer.errors import UserError
from lightning_xfer.results_table import COLUMNS, primary_rows, refuse_duplicates
from lightning_xfer.study.graph import Run
from lightning_xfer.study.records import status_of
from lightning_xfer.study.spec import NONE


def results_table(study: str, runs: list[Run]) -> pd.DataFrame:
    """Every complete run's score rows, labelled with the run's place in the grid."""
    rows = []
    for run in runs:
        if status_of(run).state != "done":
            continue
        path = run.directory / "results.jsonl"
        for number, line in enumerate(path.read_text().splitlines() if path.exists() else [], start=1):
            try:
                score = json.loads(line)
            except json.JSONDecodeError:
                raise UserError(f"{path}, line {number}: not a JSON object") from None
            rows.append({"study": study, "run": run.id, "encoder": run.encoder, "intermediate": run.intermediate,
                         "target": run.target, "seed": run.seed, "phase": run.phase, "stage": score["stage"],
                         "task": score["task"], "language": score["language"], "metric": score["metric"],
                         "value": float(score["value"]), "examples": int(score["examples"]),
                         "tuning": run.tuning, "step": score.get("global_step")})  # fmt: skip
    table = pd.DataFrame(rows, columns=COLUMNS)
    refuse_duplicates(table, f"study {study}")
    return table


def pivot(table: pd.DataFrame) -> pd.DataFrame:
    """Target x condition: the test-set language average of each target's primary metric (mean over
    seeds), with `gain over none` columns where the baseline ran."""
    primary = primary_rows(table)
    if primary.empty:
        return pd.DataFrame()
    per_seed = primary.groupby(["encoder", "target", "intermediate", "seed"])["value"].mean()
    means = per_seed.groupby(["encoder", "target", "intermediate"]).mean().unstack("intermediate")
    if NONE in means.columns:
        # paired by seed and language, as the report's papers' table: a language one run lacks is
        # left out of that seed's gain instead of shifting one average
        keys = ["encoder", "target", "seed", "language"]
        cells = primary.groupby([*keys, "intermediate"], as_index=False)["value"].mean()
        base = cells[cells["intermediate"] == NONE].drop(columns="intermediate")
        paired = cells[cells["intermediate"] != NONE].merge(base, on=keys, suffixes=("", "_none"))
        paired["gain"] = paired["value"] - paired["value_none"]
        seed_gains = paired.groupby(["encoder", "target", "intermediate", "seed"])["gain"].mean()
        gains = seed_gains.groupby(["encoder", "target", "intermediate"]).mean().unstack("intermediate")
        for condition in [c for c in means.columns if c != NONE]:
            means[f"{condition} - none"] = gains[condition] if condition in gains.columns else float("nan")
    return means.round(2)
