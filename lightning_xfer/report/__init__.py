"""`python -m lightning_xfer report RESULTS [--out DIR]`: the answer to the research question, as a report.

Reads a study's results table (CSV, Parquet, JSON lines, or the study file itself), analyses it with
`lightning_xfer.analysis` and writes `report.md` (PNG figures beside it), `report.html` (figures
embedded) and a CSV per table into DIR. A table with problems (a missing column, unknown languages,
a condition without its `none` baseline) still gets a report: the problems are stated in it, and
every part that does not depend on them is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lightning_xfer.analysis.claims import MIN_SEEDS  # the `--min-seeds` default, so the report needs analysis

if TYPE_CHECKING:
    import pandas as pd


def report_command(
    results: Path, out: Path | None = None, runs: Path | None = None, set: list[str] | None = None,
    bootstrap: int = 1000, min_seeds: int = MIN_SEEDS, power: bool = False, gain: float = 2.0, true_gains: int = 1,
    print_findings: bool = False,
) -> None:  # fmt: skip
    """Write the robustness report (Markdown, HTML, CSV) for a study's results table.

    Args:
        results: results table (.csv, .parquet, .jsonl) or a study file (.yaml)
        out: report folder (default: <results folder>/report)
        runs: folder of the run directories, for per-example files (default: the results table's folder,
            where `study results` writes it)
        set: NAME=VALUE, a study file variable (repeatable)
        bootstrap: resamples of the test examples per result (where runs wrote per-example scores)
        min_seeds: seeds a result needs before the report makes a claim about it
        power: also plan seeds from this table as a pilot: the variance components, the gain its seeds
            detect with 80% power, the seeds a gain needs
        gain: the tier gain (points) `--power` plans seeds for
        true_gains: true gains `--power` assumes among the report's tests when it sets the level each
            must clear (1, the strictest)
        print_findings: also print the report's findings section
    """
    from lightning_xfer.errors import UserError
    from lightning_xfer.study.spec import parse_assignments

    if min_seeds < 2:
        raise UserError("--min-seeds must be at least 2: one seed gives no interval")
    table, runs_root = load_results(results, parse_assignments(set or []))
    warn_about_gaps(table)
    out = out or results.parent / "report"
    markdown, page = write_report(table, out, runs_root=runs or runs_root, source=str(results), n_boot=bootstrap,
                                  min_seeds=min_seeds, power_gain=gain if power else None,
                                  true_gains=true_gains)  # fmt: skip
    print(f"report written: {markdown}\n                {page}")
    if power:
        print(f"\n{section_text(markdown.read_text(), 'Seeds planner')}")
    if print_findings:
        print(f"\n{findings_text(markdown.read_text())}")


def section_text(markdown: str, heading: str) -> str:
    """One `## <heading>` section of a written report, up to the next section."""
    start = markdown.find(f"\n## {heading}")
    end = markdown.find("\n## ", start + 1)
    return markdown[start + 1 : end if end > 0 else None].strip() if start >= 0 else f"(the report has no {heading})"


def findings_text(markdown: str) -> str:
    """The `## Findings` section of a written report."""
    return section_text(markdown, "Findings")


def load_results(path: Path, overrides: dict[str, str] | None = None) -> tuple[pd.DataFrame, Path]:
    """(table, runs folder): a results table file as it is, or a study file's table collected from its runs.

    A table with nothing to analyse (an empty file, only a header, no column to read a score from)
    or with a score twice is an error here; missing optional columns (`seed`, `run`) are the
    report's to note.
    """
    from lightning_xfer.errors import UserError
    from lightning_xfer.results_table import read_table

    if not path.exists():
        return read_table(path), path.parent  # says the file does not exist, as for any table
    if path.suffix in (".yaml", ".yml"):
        from lightning_xfer.study.graph import load_runs
        from lightning_xfer.study.table import results_table

        spec, runs = load_runs(path, overrides)
        table = results_table(spec.study, runs)
        if table.empty:
            raise UserError(f"{path}: no run of study {spec.study} has completed, so there is no score to report "
                            "(`study status` shows each run's state)")  # fmt: skip
        return table, Path(spec.out)
    if overrides:
        raise UserError(f"--set {', '.join(overrides)}: sets a study file's variables; {path} is a results table")
    return read_table(path), path.parent


def warn_about_gaps(table: pd.DataFrame) -> None:
    """Say in the output what the report leaves out: runs and languages missing from the grid, or
    every score when none is a target's primary test score."""
    from lightning_xfer.analysis.gains import missing_cells, missing_runs
    from lightning_xfer.analysis.scores import primary_scores, usable_table
    from lightning_xfer.errors import notice

    scores = primary_scores(usable_table(table)[0])
    if scores.empty:
        notice("no row is a test-stage score of a target's primary metric (`task` = `target`, `stage` test): "
               "the report says no analysis is possible")  # fmt: skip
        return
    for row in missing_runs(scores).itertuples():
        notice(f"no scores for {row.intermediate} on {row.target} with {row.encoder}, seed {row.seed}: that cell is "
               "left out of the report (did its run complete? `study status` shows it)")  # fmt: skip
    cells = missing_cells(scores)
    if len(cells):
        shown = "; ".join(f"{r.intermediate} on {r.target} with {r.encoder}, seed {r.seed}: {r.language}"
                          for r in cells.head(5).itertuples())  # fmt: skip
        more = f" and {len(cells) - 5} more" if len(cells) > 5 else ""
        notice(f"{len(cells)} language score(s) missing from runs that have others, left out of their gains: {shown}"
               f"{more}")  # fmt: skip


def write_report(
    table: pd.DataFrame,
    out: Path,
    runs_root: Path | None = None,
    source: str = "table",
    n_boot: int = 1000,
    min_seeds: int | None = None,
    power_gain: float | None = None,
    true_gains: int = 1,
) -> tuple[Path, Path]:
    """Analyse `table` and write the report into `out`; returns (report.md, report.html).

    `min_seeds`: seeds a result needs for a claim (default `claims.MIN_SEEDS`); `power_gain`: also plan
    seeds for a tier gain of this many points (`report --power`), assuming `true_gains` true gains among
    the report's tests.
    """
    from lightning_xfer.analysis import claims, findings, world
    from lightning_xfer.analysis.gains import (
        missing_baselines,
        missing_cells,
        paired_gains,
        transfer_gaps,
        unpaired_scores,
    )
    from lightning_xfer.analysis.robustness import robustness_summary, seed_tier_gains
    from lightning_xfer.analysis.scale import size_slopes
    from lightning_xfer.analysis.scores import (
        ambiguous_targets,
        missing_required,
        primary_scores,
        unknown_languages,
        usable_table,
    )
    from lightning_xfer.report import sections
    from lightning_xfer.report.document import Document
    from lightning_xfer.results_table import primary_metrics

    study = str(table["study"].iloc[0]) if "study" in table.columns and len(table) else Path(source).stem
    doc = Document(Path(out), f"Does English intermediate-task training help zero-shot transfer? Study {study}")
    missing = missing_required(table)
    table, messages = usable_table(table)
    if missing or table.empty:
        doc.heading("Findings")
        reason = "; ".join(f"the table has no `{column}` column" for column in missing) or "the table has no rows"
        doc.text(f"No analysis is possible: {reason}.")
        return doc.write()
    messages += [f"target {t} reports several metrics and the catalogue names none primary: left out"
                 for t in ambiguous_targets(table)]  # fmt: skip
    scores = primary_scores(table)
    if scores.empty:
        doc.heading("Findings")
        doc.text("No analysis is possible: the table has no test-stage score of a target's primary metric "
                 "(rows whose `task` is the run's `target`, `stage` test).")  # fmt: skip
        doc.bullets(messages)
        return doc.write()
    metrics = primary_metrics(table)
    gains, gaps = paired_gains(scores), transfer_gaps(scores)
    messages += [f"{row.unpaired} score(s) of {row.intermediate} on {row.target} with {row.encoder} (seeds "
                 f"{', '.join(map(str, row.seeds))}) have no `none` run with the same seed and language: left out "
                 "of the gains" for row in unpaired_scores(scores).itertuples()]  # fmt: skip
    summary = robustness_summary(gains, runs_root=runs_root, n_boot=n_boot)
    decisions = claims.decide(summary, size_slopes(seed_tier_gains(gains)), min_seeds=min_seeds or claims.MIN_SEEDS)
    summary = decisions.summary
    limits = findings.limitation_sentences(missing_baselines(scores), unknown_languages(scores), messages,
                                           missing_cells(scores))  # fmt: skip
    if gains.empty:
        limits.append("No condition has a `none` run to pair with: there are no gains to summarise.")
    elif summary.empty:
        limits.append("Every gain is on English, the training language: nothing zero-shot to summarise.")
    pretraining, factors = world.pretraining_scores(table), world.world_factors(gaps, gains)
    scale_doc = Document(Path(out), "")  # scale is computed before findings, rendered after
    nulls = sections.scale_section(scale_doc, decisions, gaps, metrics) if len(summary) else None
    sections.data_section(doc, scores, source)
    sections.findings_section(doc, decisions, limits,
                              findings.scale_sentences(nulls, decisions.scale_slopes) if nulls is not None else [],
                              world.pretraining_sentences(pretraining) + world.factor_sentences(factors))  # fmt: skip
    if power_gain is not None:
        sections.power_section(doc, scores, gains, power_gain, decisions.n_tests, true_gains)
    sections.paper_table_section(doc, scores)
    sections.target_sections(doc, scores, gains, gaps, summary, metrics)
    sections.groups_section(doc, gains, gaps)
    if len(summary):
        sections.robustness_section(doc, summary)
        sections.domain_section(doc, summary)
        doc.blocks += scale_doc.blocks
    if len(pretraining):
        sections.pretraining_section(doc, pretraining)
    if len(factors):
        sections.world_section(doc, factors)
    doc.heading("Method")
    doc.bullets(sections.method_lines(decisions))
    return doc.write()
