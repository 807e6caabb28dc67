"""`python -m lightning_xfer report RESULTS [--out DIR]`: the answer to the research question, as a report.

Reads a study's results table (CSV, Parquet, JSON lines, or the study file itself), analyses it with
`lightning_xfer.analysis` and writes `report.md` (PNG figures beside it), `report.html` (figures
embedded) and a CSV per table into DIR. A table with problems (a missing column, unknown languages,
a condition without its `none` baseline) still gets a report: the problems are stated in it, and
every part that does not depend on them is written.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

COMMAND_HELP = "Write the robustness report (Markdown, HTML, CSV) for a study's results table."


def report_command(argv: list[str]) -> None:
    """Parse the command line and write the report."""
    parser = argparse.ArgumentParser(prog="lightning_xfer report", description=COMMAND_HELP)
    parser.add_argument("results", type=Path, help="results table (.csv, .parquet, .jsonl) or a study file (.yaml)")
    parser.add_argument("--out", type=Path, help="report folder (default: <results folder>/report)")
    parser.add_argument("--runs", type=Path, help="folder of the run directories, for per-example files "
                        "(default: the results table's folder, where `study results` writes it)")  # fmt: skip
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="study file variables")
    parser.add_argument("--bootstrap", type=int, default=2000, help="bootstrap replicates per result")
    parser.add_argument("--print-findings", action="store_true", help="also print the report's findings section")
    args = parser.parse_args(argv)
    table, runs_root = load_results(args.results, dict(item.split("=", 1) for item in args.set))
    out = args.out or args.results.parent / "report"
    markdown, page = write_report(table, out, runs_root=args.runs or runs_root, source=str(args.results),
                                  n_boot=args.bootstrap)  # fmt: skip
    print(f"report written: {markdown}\n                {page}")
    if args.print_findings:
        print(f"\n{findings_text(markdown.read_text())}")


def findings_text(markdown: str) -> str:
    """The `## Findings` section of a written report, up to the next section."""
    start = markdown.find("\n## Findings")
    end = markdown.find("\n## ", start + 1)
    return markdown[start + 1 : end if end > 0 else None].strip() if start >= 0 else "(the report has no findings)"


def load_results(path: Path, overrides: dict[str, str] | None = None) -> tuple[pd.DataFrame, Path]:
    """(table, runs folder): a results table file as it is, or a study file's table collected from its runs.

    A table file's columns are not checked here: `write_report` reports missing ones.
    """
    import pandas as pd

    from lightning_xfer.errors import UserError

    if not path.exists():
        raise UserError(f"{path} does not exist; give a results table (`study results` writes one) or a study file")
    if path.suffix in (".yaml", ".yml"):
        from lightning_xfer.study.graph import expand
        from lightning_xfer.study.spec import load_study
        from lightning_xfer.study.table import results_table

        spec = load_study(path, overrides)
        return results_table(spec.study, expand(spec)), Path(spec.out)
    if path.suffix == ".parquet":
        return pd.read_parquet(path), path.parent
    if path.suffix == ".jsonl":
        return pd.read_json(path, lines=True, dtype={"language": str}), path.parent
    text_columns = {"language": str, "intermediate": str, "target": str, "encoder": str, "run": str}
    return pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=text_columns), path.parent


def write_report(
    table: pd.DataFrame, out: Path, runs_root: Path | None = None, source: str = "table", n_boot: int = 2000
) -> tuple[Path, Path]:
    """Analyse `table` and write the report into `out`; returns (report.md, report.html)."""
    from lightning_xfer.analysis import findings, world
    from lightning_xfer.analysis.gains import missing_baselines, paired_gains, transfer_gaps, unpaired_scores
    from lightning_xfer.analysis.robustness import robustness_summary
    from lightning_xfer.analysis.scores import (
        ambiguous_targets,
        primary_metrics,
        primary_scores,
        unknown_languages,
        usable_table,
    )
    from lightning_xfer.report import sections
    from lightning_xfer.report.document import Document

    study = str(table["study"].iloc[0]) if "study" in table.columns and len(table) else Path(source).stem
    doc = Document(Path(out), f"Does English intermediate-task training help zero-shot transfer? Study {study}")
    table, messages = usable_table(table)
    missing = [m for m in messages if "no scores can be read" in m]
    if missing or table.empty:
        doc.heading("Findings")
        doc.text("No analysis is possible: " + ("; ".join(missing) if missing else "the table has no rows") + ".")
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
    limits = findings.limitation_sentences(missing_baselines(scores), unknown_languages(scores), messages)
    if gains.empty:
        limits.append("No condition has a `none` run to pair with: there are no gains to summarise.")
    elif summary.empty:
        limits.append("Every gain is on English, the training language: nothing zero-shot to summarise.")
    pretraining, factors = world.pretraining_scores(table), world.world_factors(gaps, gains)
    scale_doc = Document(Path(out), "")  # scale is computed before findings, rendered after
    nulls = sections.scale_section(scale_doc, summary, gaps, metrics) if len(summary) else None
    sections.data_section(doc, scores, source)
    sections.findings_section(doc, findings.overview_sentences(summary) if len(summary) else [],
                              findings.tier_sentences(summary) if len(summary) else [],
                              findings.scale_sentences(nulls) if nulls is not None else [], limits,
                              world.pretraining_sentences(pretraining) + world.factor_sentences(factors))  # fmt: skip
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
    doc.bullets(sections.METHOD)
    return doc.write()
