"""The embedded study against its known answer: no claim for the control, intervals that contain the
truth measured over 10 seeds (`benchmarks/results/world_truth.csv`, by `benchmarks/world_truth.py`),
and the planted gain visible in every tier.

What it does not hold yet: that the report *claims* the planted gain. With 3 seeds, 200 test
sentences per language and 50 tests under Benjamini-Hochberg, it does not (all nine languages:
+5.0 [+0.3, +9.8], q = 0.21); the seeds planner puts the language-level variance of a gain at 28
(the test sets' sampling noise) against a run-level variance near 0. Larger `world-kind` test sets
are the fix (open in issue 30). When the claim is reached, `check` should demand it.

The default test reads the table `make quickstart` wrote on our machine (committed as
`benchmarks/results/embedded.csv`); the slow one runs the study again from scratch (~11 minutes).
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import PROJECT

from lightning_xfer.analysis.claims import HELPS, HURTS, decide
from lightning_xfer.analysis.gains import paired_gains
from lightning_xfer.analysis.robustness import robustness_summary
from lightning_xfer.analysis.scores import primary_scores
from lightning_xfer.report import load_results

TRUTH = PROJECT / "benchmarks" / "results" / "world_truth.csv"
TABLE = PROJECT / "benchmarks" / "results" / "embedded.csv"
TIERS = ["high", "mid", "low", "all"]


def truth() -> pd.DataFrame:
    """The true tier gains on world-kind, with `clearly` where the truth is 3 standard errors from zero."""
    table = pd.read_csv(TRUTH).rename(columns={"condition": "intermediate", "gain": "true_gain", "se": "true_se"})
    table = table[table["tier"].isin(TIERS)]
    table["clearly"] = (table["true_gain"] - 3 * table["true_se"]) > 0
    return table[["intermediate", "target", "tier", "true_gain", "true_se", "clearly"]]


def judged(table: pd.DataFrame) -> pd.DataFrame:
    """The report's world-kind tier results beside the truth."""
    gains = paired_gains(primary_scores(table))
    summary = decide(robustness_summary(gains)).summary
    kind = summary[summary["target"] == "world-kind"]
    return kind.merge(truth(), on=["intermediate", "target", "tier"])


def check(table: pd.DataFrame) -> pd.DataFrame:
    rows = judged(table)
    assert len(rows) == 8, rows  # 2 conditions x 4 tiers
    control = rows[rows["intermediate"] == "world-control"]
    assert not control["verdict"].isin([HELPS, HURTS]).any(), control  # no claim for the control
    planted = rows[rows["intermediate"] == "world-planted"].set_index("tier")
    assert (planted.loc[planted["clearly"], "gain"] > 0).all(), planted  # the planted gain shows in every tier...
    assert planted.loc["all", "ci_low"] > 0, planted  # ...and the nine languages' interval excludes zero
    covered = (rows["ci_low"] <= rows["true_gain"]) & (rows["true_gain"] <= rows["ci_high"])
    assert covered.sum() >= 7, rows[["intermediate", "tier", "gain", "ci_low", "ci_high", "true_gain"]]
    return rows


def test_the_quickstart_report_claims_the_planted_gain_not_the_control_and_covers_the_truth():
    table, _ = load_results(TABLE)
    assert sorted(table["seed"].unique()) == [0, 1, 2]
    check(table)


@pytest.mark.slow
def test_a_fresh_embedded_study_claims_the_planted_gain_not_the_control_and_covers_the_truth(tmp_path):
    """The whole `make quickstart` study again (pre-training, 3 seeds), in this process."""
    from helpers import run_in_project

    from lightning_xfer.study.graph import expand
    from lightning_xfer.study.spec import load_study
    from lightning_xfer.study.table import results_table

    spec = load_study(PROJECT / "configs" / "studies" / "embedded.yaml", {"out": str(tmp_path / "embedded")})
    runs = expand(spec)
    outcome = run_in_project(runs)
    assert set(outcome.values()) == {"done"}, outcome
    rows = check(results_table(spec.study, runs))
    print(rows[["intermediate", "tier", "gain", "ci_low", "ci_high", "q_value", "verdict", "true_gain"]])
