"""One results table per study, the contract between the study, the report and what comes after.

Columns: `study, run, encoder, intermediate, target, seed, phase, stage, task, language, metric,
value, examples, tuning`, one row per score of every complete run (a run that did not complete keeps its
rows on disk, but they are not in the table). `pivot` gives the papers' view: target x condition,
the language average of the target's primary metric, and the gain over `none` (paired by seed and language).

`tuning` (last, added with LoRA) is what the run trained of the encoder: `full`, `lora`, or
`lora-stacked` (a target run's LoRA over its intermediate run's kept adapter). A full and a LoRA
run of one model are two `encoders:` entries of the study with their own names (run ids must
differ), so every analysis that groups by `encoder` keeps them apart; tables written before the
column existed read as `full`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from lightning_xfer.errors import UserError
from lightning_xfer.study.graph import Run
from lightning_xfer.study.records import status_of
from lightning_xfer.study.spec import NONE

COLUMNS = ["study", "run", "encoder", "intermediate", "target", "seed", "phase", "stage", "task", "language",
           "metric", "value", "examples", "tuning", "step"]  # fmt: skip
DEFAULTS = {"tuning": "full", "step": None}
"""Columns added after the first tables were written, and the value older tables mean (`step`: the
training step of the weights scored; unknown in older tables)."""
KEY = ["run", "stage", "task", "language", "metric"]
"""What identifies a score; validation (`val`) rows add their `step` (each validation is a score of its own)."""
RUN_PLACE = ["encoder", "intermediate", "target", "seed", "phase"]
"""What identifies a run in a table without the `run` column."""


def _key_columns(table: pd.DataFrame) -> list[str]:
    """`KEY` as far as the table has it; a table without `run` (an older or hand-made one) names its run
    by its place in the grid instead."""
    run = ["run"] if "run" in table.columns else [c for c in RUN_PLACE if c in table.columns]
    return [*run, *(c for c in KEY[1:] if c in table.columns)]


def duplicate_keys(table: pd.DataFrame) -> pd.DataFrame:
    """Rows whose key (`KEY`, plus `step` for validation (`val`) rows) occurs more than once."""
    key = _key_columns(table)
    if not {"task", "language", "metric"} <= set(key):
        return table.iloc[:0]
    keyed = table[key].astype(str)
    if "stage" in table.columns and "step" in table.columns:
        keyed = keyed.assign(_step=table["step"].where(table["stage"] != "test").astype(str))
    return table[keyed.duplicated(keep=False)]


def refuse_duplicates(table: pd.DataFrame, source: str) -> None:
    """A table where one score appears twice would be averaged or counted twice: stop and say where."""
    duplicates = duplicate_keys(table)
    if len(duplicates):
        key = _key_columns(table)
        first = " / ".join(str(duplicates.iloc[0][c]) for c in key)
        raise UserError(f"{source}: {len(duplicates)} rows repeat a key ({', '.join(key)}), e.g. {first}; a results "
                        "table holds one score per key (a table written twice into one file, or rows written twice "
                        "by tests run twice before results were keyed: run `study results` again on the runs, or "
                        "drop the repeated rows)")  # fmt: skip


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


def write_table(table: pd.DataFrame, path: Path) -> Path:
    """Write as CSV, Parquet or JSON lines, by the file's suffix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        table.to_parquet(path, index=False)
    elif path.suffix == ".jsonl":
        table.to_json(path, orient="records", lines=True, force_ascii=False)
    else:
        table.to_csv(path, index=False)
    return path


def read_table(path: Path) -> pd.DataFrame:
    """A results table from CSV, Parquet or JSON lines, with its columns checked."""
    if not path.exists():
        raise UserError(f"{path} does not exist")
    if path.suffix == ".parquet":
        table = pd.read_parquet(path)
    elif path.suffix == ".jsonl":
        table = pd.read_json(path, lines=True)
    else:
        table = pd.read_csv(path, keep_default_na=False, dtype={"language": str, "intermediate": str, "target": str})
    for column, value in DEFAULTS.items():
        if column not in table.columns:
            table[column] = value
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise UserError(f"{path}: missing columns {missing}; a results table has {COLUMNS}")
    refuse_duplicates(table, str(path))
    return table


def pivot(table: pd.DataFrame) -> pd.DataFrame:
    """Target x condition: the test-set language average of each target's primary metric (mean over
    seeds), with `gain over none` columns where the baseline ran."""
    from lightning_xfer.tasks import catalogue

    tasks = catalogue()
    test = table[(table["stage"] == "test") & (table["task"] == table["target"])]
    pairs = zip(test["task"], test["metric"], strict=True)
    primary = test[[t in tasks and tasks[t].primary_metric == m for t, m in pairs]]
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
