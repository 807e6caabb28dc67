"""The study results table: the contract between the study, the report and everything after.

One home for its facts, so the study that writes it, the report that reads it and the benchmarks
beside them cannot disagree:
- its columns (`COLUMNS`), the ones added later with what older tables mean (`DEFAULTS`), what
  identifies a score (`KEY`) and the columns a score cannot be read without (`REQUIRED`);
- reading and writing it as CSV, Parquet or JSON lines (`read_table`, `write_table`);
- the rows the research question is about (`target_test_rows`: a target's own test scores) and the
  one metric of each target that is analysed (`primary_metrics`);
- what is wrong with a table, as error types (`TableError` and its kinds) rather than message text.

`tuning` (added with LoRA) is what the run trained of the encoder: `full`, `lora`, or `lora-stacked`;
tables written before it existed read as `full`. `step` is the training step of the weights scored;
unknown in older tables.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lightning_xfer.errors import UserError

COLUMNS = ["study", "run", "encoder", "intermediate", "target", "seed", "phase", "stage", "task", "language",
           "metric", "value", "examples", "tuning", "step"]  # fmt: skip
DEFAULTS = {"tuning": "full", "step": None}
"""Columns added after the first tables were written, and the value older tables mean (`step`: the
training step of the weights scored; unknown in older tables)."""
KEY = ["run", "stage", "task", "language", "metric"]
"""What identifies a score; validation (`val`) rows add their `step` (each validation is a score of its own)."""
RUN_PLACE = ["encoder", "intermediate", "target", "seed", "phase"]
"""What identifies a run in a table without the `run` column."""
REQUIRED = ["encoder", "intermediate", "target", "stage", "task", "language", "metric", "value"]
"""Columns without which no score can be read; `seed` and `run` have fall-backs (`analysis.scores.usable_table`)."""
TEXT_COLUMNS = {"language": str, "intermediate": str, "target": str, "encoder": str, "run": str}
"""Read as text whatever they hold: a language `no` or a condition `none` is not a missing value."""


class TableError(UserError):
    """A results table that cannot be analysed; the message names the file and what was expected."""


class UnreadableTable(TableError):
    """The file is missing, empty, not UTF-8, or not a table in its format."""


class MissingColumns(TableError):
    """Columns of `REQUIRED` are missing (`columns`)."""

    def __init__(self, message: str, columns: list[str]):
        super().__init__(message)
        self.columns = columns


class EmptyTable(TableError):
    """A header and no rows."""


class DuplicateKeys(TableError):
    """A score appears twice (`rows`): it would be averaged or counted twice."""

    def __init__(self, message: str, rows: pd.DataFrame):
        super().__init__(message)
        self.rows = rows


def read_table(path: Path) -> pd.DataFrame:
    """A results table from CSV, Parquet or JSON lines: `REQUIRED` columns checked, at least one row,
    no repeated key, and the columns older tables lack filled with what they meant (`DEFAULTS`)."""
    if not path.exists():
        raise UnreadableTable(f"{path} does not exist; give a results table (`study results` writes one) or a "
                              "study file")  # fmt: skip
    try:
        table = _read_file(path)
    except pd.errors.EmptyDataError:
        raise UnreadableTable(f"{path}: the file is empty; expected a results table with a header row") from None
    except UnicodeDecodeError as error:
        raise UnreadableTable(f"{path}: not UTF-8 ({error.reason} at byte {error.start}); expected a results "
                              "table") from None  # fmt: skip
    except (ValueError, OSError) as error:  # pandas' parsers raise these for a file that is not a table
        raise UnreadableTable(f"{path}: cannot read it as a results table ({str(error).splitlines()[0]})") from None
    missing = [column for column in REQUIRED if column not in table.columns]
    if missing:
        raise MissingColumns(f"{path}: no column {', '.join(missing)} (it has {', '.join(map(str, table.columns))}); "
                             f"expected a results table with {', '.join(COLUMNS)} (`study results` writes one)",
                             missing)  # fmt: skip
    if table.empty:
        raise EmptyTable(f"{path}: only a header, no scores; expected one row per score (`study results` writes them)")
    for column, value in DEFAULTS.items():
        if column not in table.columns:
            table[column] = value
    refuse_duplicates(table, str(path))
    return table


def _read_file(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".jsonl":
        if not path.stat().st_size:
            raise pd.errors.EmptyDataError("empty")
        return pd.read_json(path, lines=True, dtype={"language": str})
    return pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=TEXT_COLUMNS)


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
        raise DuplicateKeys(f"{source}: {len(duplicates)} rows repeat a key ({', '.join(key)}), e.g. {first}; a "
                            "results table holds one score per key (a table written twice into one file, or rows "
                            "written twice by tests run twice before results were keyed: run `study results` again "
                            "on the runs, or drop the repeated rows)", duplicates)  # fmt: skip


def target_test_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows the research question is about: each run's test scores on its own target (not its
    validation scores, nor an intermediate task's or the pre-training's own)."""
    return table[(table["stage"] == "test") & (table["task"] == table["target"])]


def primary_metrics(table: pd.DataFrame) -> dict[str, str]:
    """Target -> the metric to analyse: the only one it reports, else the catalogue's primary metric.

    The catalogue is consulted only for targets with several metrics (it imports the task code,
    which is slow), so a table with one metric per target, or a target the catalogue does not
    know, needs no catalogue. A target with several metrics that the catalogue does not know is
    left out (`analysis.scores.ambiguous_targets` names it).
    """
    found = target_test_rows(table).groupby("target")["metric"].unique()
    metrics = {str(t): str(m[0]) for t, m in found.items() if len(m) == 1}
    several = [t for t, m in found.items() if len(m) > 1]
    if several:
        from lightning_xfer.tasks import catalogue

        tasks = catalogue()
        metrics |= {t: tasks[t].primary_metric for t in several if t in tasks}
    return metrics


def primary_rows(table: pd.DataFrame) -> pd.DataFrame:
    """`target_test_rows` of each target's primary metric (`primary_metrics`)."""
    test = target_test_rows(table)
    metrics = primary_metrics(test)
    keep = [metrics.get(t) == m for t, m in zip(test["target"], test["metric"], strict=True)]
    return test[pd.Series(keep, index=test.index, dtype=bool)]
