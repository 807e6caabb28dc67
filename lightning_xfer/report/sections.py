"""The report's sections, in reading order; each takes the analysed tables and adds blocks to a Document."""

from __future__ import annotations

import re

import pandas as pd

from lightning_xfer.analysis import figures
from lightning_xfer.analysis.domains import domain_gains, domain_pairs, task_domains
from lightning_xfer.analysis.gains import BASELINE, gain_table, grouped, language_means
from lightning_xfer.analysis.robustness import SUMMARY_COLUMNS
from lightning_xfer.analysis.scale import scale_table, smallest_null_size
from lightning_xfer.analysis.scores import scores_by_language
from lightning_xfer.report.document import Document


def slug(*parts: str) -> str:
    """A file name from labels (`squad+mnli`, `facebook/xlm-roberta-xl`)."""
    return re.sub(r"[^A-Za-z0-9+.-]+", "_", "-".join(parts))


def data_section(doc: Document, scores: pd.DataFrame, source: str) -> None:
    doc.heading("Data")
    doc.text(f"Source: `{source}`. Test-stage scores of each target's primary metric: "
             f"{scores['encoder'].nunique()} encoder(s) ({', '.join(sorted(scores['encoder'].unique()))}); "
             f"conditions {', '.join(sorted(scores['intermediate'].unique()))}; "
             f"targets {', '.join(sorted(scores['target'].unique()))}; "
             f"seeds {', '.join(map(str, sorted(scores['seed'].unique())))}; "
             f"{scores['language'].nunique()} languages.")  # fmt: skip


def findings_section(doc: Document, overview: list[str], tiers: list[str], scale: list[str], limits: list[str],
                     world: list[str] = ()) -> None:  # fmt: skip
    doc.heading("Findings")
    doc.text("Written from the numbers below: a result is called a gain only when its whole 95% interval lies "
             "above zero. Intervals and tests are described under *Method*.")  # fmt: skip
    if limits:
        doc.heading("What the data cannot support", 3)
        doc.bullets(limits)
    if overview:
        doc.heading("Overview by resource tier", 3)
        doc.bullets(overview)
    if tiers:
        doc.heading("Per encoder, condition and target", 3)
        doc.bullets(tiers)
    if scale:
        doc.heading("Scale", 3)
        doc.bullets(scale)
    if world:
        doc.heading("Pre-training and the factors each language was made with", 3)
        doc.bullets(list(world))


def pretraining_section(doc: Document, pretraining: pd.DataFrame) -> None:
    """Masked-token accuracy per language after the study's own pre-training (phase 1)."""
    doc.heading("Pre-training (phase 1)")
    table = pretraining.pivot_table(index=["language", "tier"], columns="encoder", values="accuracy").reset_index()
    table = table.sort_values(["tier", "language"], key=lambda c: c.map({"high": 0, "mid": 1, "low": 2}).fillna(c))
    doc.table(table, "pretraining", "Masked-token accuracy (%) on held-out text of equal size per language, "
              "after the study's MLM pre-training: what each language got from its share of the corpus.")  # fmt: skip


def world_section(doc: Document, factors: pd.DataFrame) -> None:
    """The embedded world's languages: the factors each was made with beside its gap and gains."""
    doc.heading("The embedded world: each language's factors beside its transfer")
    doc.table(factors, "world_factors", "Each derived language as it was made (tier, sentences of pre-training "
              "text, share of English words kept, of cognates, word order, script) and what the study measured: "
              "the transfer gap of the `none` runs and the gain of each condition, means over targets and seeds "
              "(points of each target's primary metric).")  # fmt: skip


def paper_table_section(doc: Document, scores: pd.DataFrame) -> None:
    doc.heading("Gains over `none` (the papers' table)")
    doc.table(gain_table(scores), "gain_table",
              "Language average (all languages of the target, English included, as XTREME averages) of the "
              "primary test metric per condition, mean over seeds; `X - none` pairs seeds.")  # fmt: skip


def target_sections(doc: Document, scores, gains, gaps, summary, metrics: dict[str, str]) -> None:
    """Per target: scores per language, gains per language, tier bars, gain and gap against size."""
    gain_means, gap_means = _language_means(gains, "gain"), _language_means(gaps, "gap")
    for target in sorted(scores["target"].unique()):
        metric = metrics.get(target, "score")
        unit = f"gain over none ({metric}, points)"
        doc.heading(f"Target: {target} ({metric})")
        wide = scores_by_language(scores, target)
        wide.columns = [f"{e} / {c}" for e, c in wide.columns]
        doc.table(wide.reset_index(), slug("scores", target), f"{target}: test {metric} per language, mean over seeds.")
        target_gains = gain_means[gain_means["target"] == target]
        if len(target_gains):
            columns = ["language", "tier", "encoder", "intermediate", "gain", "n_seeds"]
            doc.table(target_gains[columns], slug("gains", target),
                      f"{target}: gain over none per language, mean over seeds (paired by seed).")  # fmt: skip
        for condition in sorted(summary.loc[summary["target"] == target, "intermediate"].unique()):
            rows = summary[(summary["target"] == target) & (summary["intermediate"] == condition)]
            title = f"{condition} vs none on {target}"
            figure = figures.tier_bars(rows, f"{title}: mean gain per tier, 95% interval", unit)
            doc.figure(figure, slug("tiers", target, condition), f"{title}: gain per resource tier with its interval.")
            points = target_gains[(target_gains["intermediate"] == condition) & (target_gains["language"] != "en")]
            if points["cc100_gib"].notna().any():
                figure = figures.against_size(points, "gain", unit, f"{title}: gain per language against size")
                caption = (f"{title}: gain per language (mean over seeds) against its pre-training data size "
                           "(CC-100 GiB; for the embedded world, the language's share of its corpus).")  # fmt: skip
                doc.figure(figure, slug("gain-size", target, condition), caption)
        baseline = gap_means[(gap_means["target"] == target) & (gap_means["intermediate"] == BASELINE)]
        if len(baseline) and baseline["cc100_gib"].notna().any():
            title = f"{target}: transfer gap of the none runs against pre-training size"
            figure = figures.against_size(baseline, "gap", f"English minus language ({metric}, points)", title)
            doc.figure(figure, slug("gap-size", target), f"{target}: English minus the language, no intermediate task.")


def _language_means(frame: pd.DataFrame, value: str) -> pd.DataFrame:
    """`language_means`, or an empty frame with its columns when there is nothing to average."""
    if frame.empty:
        columns = ["encoder", "intermediate", "target", "language", value, "n_seeds", "tier", "cc100_gib"]
        return pd.DataFrame(columns=columns)
    return language_means(frame, value)


def groups_section(doc: Document, gains: pd.DataFrame, gaps: pd.DataFrame) -> None:
    doc.heading("Gains and gaps by tier, script and family")
    doc.text("Each language is averaged over seeds first, so a group's mean counts each language once.")
    if not gains.empty:
        for by in ("tier", "script", "family"):
            doc.table(grouped(gains, "gain", by), slug("gain-by", by), f"Gain over none by {by}.", show=by != "family")
    if not gaps.empty:
        for by in ("tier", "script", "family"):
            doc.table(grouped(gaps, "gap", by), slug("gap-by", by), f"Transfer gap by {by}.", show=by == "tier")


def robustness_section(doc: Document, summary: pd.DataFrame) -> None:
    doc.heading("Robustness summary")
    doc.table(summary[SUMMARY_COLUMNS], "robustness", "One row per encoder x condition x target x tier; the ratio "
              "and slope columns describe the whole encoder x condition x target and repeat on its rows.",
              show=False)  # fmt: skip
    shown = [
        "encoder",
        "intermediate",
        "target",
        "tier",
        "gain",
        "ci_low",
        "ci_high",
        "p_value",
        "p_value_languages",
        "n_languages",
        "n_seeds",
    ]
    doc.table(summary[shown], "robustness_short", "The summary's main columns.")


def domain_section(doc: Document, summary: pd.DataFrame) -> None:
    doc.heading("Domain shift")
    by_result = domain_gains(summary, task_domains())
    doc.table(
        domain_pairs(by_result),
        "domain_pairs",
        "Mean all-languages gain per (intermediate domain, target domain), as the catalogue declares domains.",
    )
    doc.table(by_result, "domain_gains", "Each result with its domains and interval.", show=False)


def scale_section(doc: Document, summary: pd.DataFrame, gaps: pd.DataFrame, metrics: dict[str, str]) -> pd.DataFrame:
    """Scale plots and tables; returns the smallest-null-size table for the findings."""
    doc.heading("Scale")
    gap_tiers = grouped(gaps, "gap", "tier") if not gaps.empty else None
    scale = scale_table(summary, gap_tiers)
    doc.table(scale, "scale", "Tier gains (and the none runs' tier gap) beside each encoder's parameter count "
              "(NaN: unknown size, left off the plots).")  # fmt: skip
    nulls = smallest_null_size(scale)
    doc.table(nulls, "scale_null", "Smallest size whose gain interval includes zero, per condition x target x tier.")
    for (condition, target), rows in scale.groupby(["intermediate", "target"]):
        if rows.dropna(subset=["parameters"])["encoder"].nunique() < 2:
            continue
        metric = metrics.get(target, "score")
        title = f"{condition} vs none on {target}"
        figure = figures.against_parameters(rows, "gain", f"gain over none ({metric}, points)",
                                            f"{title}: gain per tier against encoder size")  # fmt: skip
        doc.figure(figure, slug("scale-gain", target, condition), f"{title}: gain per tier against encoder size.")
        if "gap" in rows and rows["gap"].notna().any() and condition == sorted(scale["intermediate"].unique())[0]:
            figure = figures.against_parameters(rows, "gap", f"English minus language ({metric}, points)",
                                                f"{target}: transfer gap per tier against encoder size")  # fmt: skip
            doc.figure(figure, slug("scale-gap", target), f"{target}: gap of the none runs per tier against size.")
    return nulls


METHOD = [
    "Gain: condition minus `none` for the same encoder, target, seed and language (paired by seed); English, the "
    "training language, is left out of every tier.",
    "Tiers from the language table: high >= 20 GiB of CC-100, mid >= 2 GiB, low < 2 GiB or unseen by XLM-R; "
    "the embedded world's languages have the tier their world sets and their share of its corpus as size.",
    "Interval: percentile bootstrap, 95%. Each replicate draws the seeds with replacement (one draw shared by all "
    "tiers of a result) and, independently, the languages of each tier with replacement, n - 1 of n units each "
    "(which makes the bootstrap variance of a mean the unbiased s^2/n); where per-example files exist for both runs "
    "of a cell, its gain is also resampled over test examples, the same ids for both conditions.",
    "Test: one-sided paired sign-flip test of gain > 0, statistic: the mean gain. `p_value` flips whole seeds (a "
    "seed's condition and `none` runs are exchangeable if the condition does nothing): exact, but never below 2^-S "
    "with S seeds. `p_value_languages` flips languages (a language's gain averaged over seeds): finer, but "
    "optimistic, since languages share each run's noise. Exact over all 2^n flips up to 10,000, else 10,000 random "
    "flips. Read the interval first.",
    "Low/high ratio and slope (points per tenfold CC-100 GiB, languages with a known size) come with intervals "
    "from the same replicates.",
]
