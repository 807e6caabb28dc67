"""`lightning_xfer report`: a complete report from planted and study-format tables, and from bad input."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from lightning_xfer.analysis.planted import PlantedStudy, generate
from lightning_xfer.report import report_command, write_report
from lightning_xfer.results_table import COLUMNS, read_table, write_table

KEYS = ["encoder", "intermediate", "target", "tier"]


@pytest.fixture(scope="module")
def planted_report(tmp_path_factory) -> tuple[Path, object]:
    planted = generate(PlantedStudy(seeds=(0, 1, 2, 3, 4), seed_sd=0.3, cell_sd=0.3, language_sd=0.2, seed=3))
    out = tmp_path_factory.mktemp("report")
    write_report(planted.table, out, source="planted.csv", power_gain=1.0)
    return out, planted


def test_the_report_has_markdown_with_linked_figures_html_with_embedded_ones_and_csv_tables(planted_report):
    out, _ = planted_report
    markdown = (out / "report.md").read_text()
    for section in ("## Findings", "## Gains over `none`", "## Target: xnli (accuracy)", "## Robustness summary",
                    "## Domain shift", "## Scale", "## Method"):  # fmt: skip
        assert section in markdown
    linked = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", markdown)
    assert linked and all((out / name).exists() for name in linked)
    assert {
        "tiers-xnli-squad.png",
        "gain-size-xnli-squad.png",
        "gap-size-xnli.png",
        "scale-gain-xnli-squad.png",
    } <= set(linked)
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == len(linked) and ".png'" not in page
    summary = pd.read_csv(out / "robustness.csv")
    assert list(summary.columns[:7]) == ["encoder", "intermediate", "target", "tier", "gain", "ci_low", "ci_high"]
    assert {"p_value", "q_value", "verdict", "n_languages", "n_seeds", "ratio_low_high", "slope_per_log10_gib"} <= set(
        summary.columns
    )
    for name in ("gain_table", "scores-xnli", "gain-by-script", "gain-by-family", "domain_pairs", "scale_null",
                 "scale_slopes", "power"):  # fmt: skip
        assert (out / f"{name}.csv").exists()


def test_the_report_recovers_the_planted_tier_gains(planted_report):
    out, planted = planted_report
    summary = (
        pd.read_csv(out / "robustness.csv")
        .merge(planted.truth, on=KEYS, suffixes=("", "_true"))
        .dropna(subset=["gain_true"])
    )
    covered = (summary["ci_low"] <= summary["tested_gain"]) & (summary["tested_gain"] <= summary["ci_high"])
    assert len(summary) == 24 and covered.sum() >= 22
    markdown = (out / "report.md").read_text()
    claims = markdown[markdown.index("### Claims that survive") : markdown.index("### Overview by resource tier")]
    # planted +2.0 with low noise, 5 seeds: a claim, with its interval, q, seeds and languages
    assert re.search(r"\*\*squad helps xnli\*\* \(xlm-roberta-base\), high-resource languages: \+[0-9.]+ points "
                     r"\[\+[0-9.]+, \+[0-9.]+\], q = [0-9.e-]+; 5 seeds x 6 languages", claims)  # fmt: skip
    assert "Benjamini-Hochberg at 5% over all" in markdown and "**The gain of" in claims
    assert "the smallest size whose interval includes zero" in markdown or "excludes zero at every" in markdown


def test_the_planted_targets_use_the_catalogues_primary_metrics():
    from lightning_xfer.analysis.planted import PRIMARY_METRIC
    from lightning_xfer.tasks import catalogue

    assert {t: catalogue()[t].primary_metric for t in PRIMARY_METRIC} == PRIMARY_METRIC


def test_a_table_without_a_score_column_gets_a_report_that_says_why(tmp_path):
    write_report(generate().table.drop(columns=["value"]), tmp_path, n_boot=50)
    markdown = (tmp_path / "report.md").read_text()
    assert "No analysis is possible" in markdown and "`value`" in markdown
    assert (tmp_path / "report.html").exists()


def test_a_table_without_test_scores_gets_a_report_that_says_why(tmp_path):
    table = generate().table
    write_report(table[table["stage"] == "validation"], tmp_path, n_boot=50)
    assert "no test-stage score of a target's primary metric" in (tmp_path / "report.md").read_text()


def test_a_table_without_seeds_is_read_as_one_seed_and_the_report_says_so(tmp_path):
    table = generate(PlantedStudy(seeds=(0,), encoders=("xlm-roberta-base",), targets=("xnli",))).table
    write_report(table.drop(columns=["seed"]), tmp_path, n_boot=50)
    markdown = (tmp_path / "report.md").read_text()
    assert "no `seed` column" in markdown and "The design cannot support a claim" in markdown
    assert (tmp_path / "robustness.csv").exists()


def test_an_unknown_language_is_named_and_the_rest_is_reported(tmp_path):
    table = generate(PlantedStudy(encoders=("xlm-roberta-base",), targets=("xnli",))).table
    extra = table[table["language"] == "de"].assign(language="xx")
    write_report(pd.concat([table, extra]), tmp_path, n_boot=50)
    assert "does not know xx" in (tmp_path / "report.md").read_text()
    summary = pd.read_csv(tmp_path / "robustness.csv")
    assert set(summary["tier"]) == {"high", "mid", "low", "all"}
    assert summary.loc[summary["tier"] == "all", "n_languages"].iloc[0] == 19  # xx counts among all


def test_a_condition_without_its_baseline_is_named_and_the_rest_is_reported(tmp_path):
    table = generate().table
    table = table[~((table["encoder"] == "xlm-roberta-large") & (table["intermediate"] == "none"))]
    write_report(table, tmp_path, n_boot=50)
    markdown = (tmp_path / "report.md").read_text()
    assert "squad on xnli with xlm-roberta-large has no `none` run" in markdown
    partial = generate().table
    partial = partial[~((partial["intermediate"] == "none") & (partial["seed"] == 2))]
    write_report(partial, tmp_path / "partial", n_boot=50)
    assert "(seeds 2) have no `none` run with the same seed" in (tmp_path / "partial" / "report.md").read_text()
    assert set(pd.read_csv(tmp_path / "robustness.csv")["encoder"]) == {"xlm-roberta-base"}
    assert "xlm-roberta-large / squad" in pd.read_csv(tmp_path / "scores-xnli.csv").columns


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_the_command_reads_every_table_format(tmp_path, suffix, capsys):
    table = generate(PlantedStudy(encoders=("xlm-roberta-base",), targets=("xnli",), seeds=(0, 1))).table
    path = write_table(table, tmp_path / f"results{suffix}")
    report_command(path, bootstrap=50, power=True, gain=1.5)
    printed = capsys.readouterr().out
    assert "report written" in printed and "## Seeds planner" in printed and "seeds_needed" in printed
    assert len(pd.read_csv(tmp_path / "report" / "robustness.csv")) == 8  # 2 conditions x 4 tiers


def _tiny_study_table() -> pd.DataFrame:
    """A table as `study results configs/studies/tiny.yaml` writes it: the tiny encoder, generated
    languages (en, xa, xb, xc) the language table does not know, two seeds, accuracy only."""
    rows = []
    for condition in ("none", "synthetic-mlm"):
        for target in ("synthetic-topic", "synthetic-mlm"):
            for seed in (0, 1):
                run = f"target.tiny.{condition}.{target}.s{seed}"
                for index, language in enumerate(("en", "xa", "xb", "xc")):
                    value = 60.0 - 10 * index + (2.0 if condition != "none" else 0.0) + seed
                    rows.append(["tiny", run, "tiny", condition, target, seed, "target", "test", target, language,
                                 "accuracy", value, 300])  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS[:-2])  # written before the `tuning` and `step` columns existed


def test_a_table_in_the_tiny_study_format_renders(tmp_path):
    path = write_table(_tiny_study_table(), tmp_path / "results.csv")
    older = read_table(path)
    assert list(older.columns) == COLUMNS and set(older["tuning"]) == {"full"}  # an older table still reads
    assert older["step"].isna().all()
    report_command(path, out=tmp_path / "out", bootstrap=100)
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert "does not know xa, xb, xc" in markdown
    finding = next(line for line in markdown.splitlines() if "synthetic-mlm on synthetic-topic, tiny (2 seeds)" in line)
    # two seeds with identical gains: described, never claimed (a claim needs 3 seeds)
    assert "all +2.00 points [+2.00, +2.00] (3 languages; descriptive)" in finding
    assert "The design cannot support a claim**: the most seeds any result has is 2" in markdown


def test_an_empty_table_gets_a_report_that_says_so(tmp_path):
    """`report` itself stops earlier on a table without rows (tests/test_bad_input.py); the writer
    alone still says why there is nothing to analyse."""
    write_report(pd.DataFrame(columns=COLUMNS), tmp_path / "report")
    assert "the table has no rows" in (tmp_path / "report" / "report.md").read_text()
