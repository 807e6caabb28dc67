"""The results table's one home: one reader for every format, typed errors, and one rule for the rows
and metric the analysis uses, shared by the study's pivot and the report."""

import pandas as pd
import pytest

from lightning_xfer.analysis.scores import primary_scores
from lightning_xfer.results_table import (
    COLUMNS,
    DuplicateKeys,
    EmptyTable,
    MissingColumns,
    UnreadableTable,
    primary_metrics,
    read_table,
    write_table,
)
from lightning_xfer.study.table import pivot


def table(target: str = "made-up-task", metrics: tuple[str, ...] = ("score",)) -> pd.DataFrame:
    """Two seeds of `none` and `squad` on a target, English and Norwegian (`no`), plus a validation row."""
    rows = []
    for condition, bonus in (("none", 0.0), ("squad", 3.0)):
        for seed in (0, 1):
            run = f"target.x.{condition}.{target}.s{seed}"
            for language, base in (("en", 80.0), ("no", 60.0)):
                for number, metric in enumerate(metrics):
                    rows.append(["s", run, "x", condition, target, seed, "target", "test", target, language, metric,
                                 base + bonus + seed - 10 * number, 100, "full", 300])  # fmt: skip
            rows.append(["s", run, "x", condition, target, seed, "target", "val", target, "en", metrics[0], 1.0, 100,
                         "full", 100])  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS)


@pytest.mark.parametrize("suffix", ["csv", "parquet", "jsonl"])
def test_every_format_reads_back_the_same_table_with_no_and_none_as_text(tmp_path, suffix):
    written = table()
    back = read_table(write_table(written, tmp_path / f"results.{suffix}"))
    assert set(back["language"]) == {"en", "no"} and set(back["intermediate"]) == {"none", "squad"}
    pd.testing.assert_frame_equal(back[COLUMNS], written, check_dtype=False)


def test_each_problem_is_its_own_error_type_naming_the_file(tmp_path):
    missing = write_table(table().drop(columns=["value", "metric"]), tmp_path / "missing.csv")
    with pytest.raises(MissingColumns, match=r"missing\.csv: no column metric, value") as error:
        read_table(missing)
    assert error.value.columns == ["metric", "value"]
    with pytest.raises(EmptyTable, match=r"header\.csv: only a header"):
        read_table(write_table(table().iloc[:0], tmp_path / "header.csv"))
    doubled = pd.concat([table(), table().iloc[:1]])
    with pytest.raises(DuplicateKeys, match=r"doubled\.csv: 2 rows repeat a key") as error:
        read_table(write_table(doubled, tmp_path / "doubled.csv"))
    assert len(error.value.rows) == 2
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(UnreadableTable, match=r"empty\.jsonl: the file is empty"):
        read_table(tmp_path / "empty.jsonl")


def test_the_pivot_and_the_report_analyse_the_same_metric_even_for_a_target_the_catalogue_lacks():
    one = table()  # one metric on a target no catalogue knows: it is the primary one
    assert primary_metrics(one) == {"made-up-task": "score"}
    assert pivot(one).loc[("x", "made-up-task"), "squad - none"] == pytest.approx(3.0)
    assert set(primary_scores(one)["value"]) == {80.0, 81.0, 60.0, 61.0, 83.0, 84.0, 63.0, 64.0}
    several = table("panx", ("f1", "precision"))  # several: the catalogue names f1
    assert primary_metrics(several) == {"panx": "f1"}
    assert pivot(several).loc[("x", "panx"), "squad - none"] == pytest.approx(3.0)
    assert primary_scores(several)["value"].max() == 84.0  # precision's rows (10 lower) are not analysed
