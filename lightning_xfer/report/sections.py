"""The report's sections, in reading order; each takes the analysed tables and adds blocks to a Document."""

from __future__ import annotations

import re

import pandas as pd

from lightning_xfer.analysis import figures, findings
from lightning_xfer.analysis.claims import Decisions
from lightning_xfer.analysis.domains import domain_gains, domain_pairs, task_domains
from lightning_xfer.analysis.gains import BASELINE, gain_table, grouped, language_means
from lightning_xfer.analysis.power import plan_seeds
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


def findings_section(doc: Document, decisions: Decisions, limits: list[str], scale: list[str],
                     world: list[str] = ()) -> None:  # fmt: skip
    """The claims that survive on top, then what the data cannot support, then every result described."""
    summary = decisions.summary
    doc.heading("Findings")
    doc.text("Written from the numbers below. A result is a claim (\"helps\", \"hurts\", \"grows\", \"shrinks\") "
             f"only with at least {decisions.min_seeds} seeds and a Benjamini-Hochberg adjusted q below "
             f"{decisions.alpha:g} over every test of this report; its 95% interval then excludes zero too. "
             "Seeds are the unit of replication; intervals and tests are described under *Method*, and every number "
             "is in a CSV beside this report (`robustness.csv`, `scale_slopes.csv`).")  # fmt: skip
    doc.heading("Claims that survive", 3)
    surviving = findings.claim_sentences(decisions)
    doc.bullets(findings.design_sentences(decisions) + (surviving or ["No claim survives."]))
    if limits:
        doc.heading("What the data cannot support", 3)
        doc.bullets(limits)
    if len(summary):
        doc.heading("Overview by resource tier", 3)
        doc.bullets(findings.overview_sentences(summary))
        doc.heading("Every result, described", 3)
        doc.bullets(findings.result_sentences(summary))
    if scale:
        doc.heading("Scale", 3)
        doc.bullets(scale)
    if world:
        doc.heading("Pre-training and the factors each language was made with", 3)
        doc.bullets(list(world))


def power_section(doc: Document, scores: pd.DataFrame, gains: pd.DataFrame, gain: float, tests: int,
                  true_gains: int) -> None:  # fmt: skip
    """`report --power`: this table as a pilot, and the seeds a study needs to make a claim, at the
    level the report's false discovery control over its `tests` tests sets for one of them."""
    tests = max(tests, 1)
    plan = plan_seeds(scores, gains, for_gain=gain, tests=tests, true_gains=true_gains)
    doc.heading("Seeds planner")
    doc.text("This table read as a pilot. `var_run`: variance of a gain shared by every language of a run (the "
             "seed's luck); `var_language`: variance of one language's gain within a run; `sd_seed_gain`: the "
             "spread of one seed's tier gain, sqrt(var_run + var_language / languages). `test_alpha`: the two-sided "
             f"level one test must clear for Benjamini-Hochberg at 5% over this report's {tests} test(s) to find "
             f"{true_gains} true gain(s) among them (Jung 2005; `report --true-gains`); `detectable_gain`: the tier "
             "gain this table's seeds detect with 80% power at that level (t-test over seeds); `seeds_needed`: "
             f"seeds that detect a gain of {gain:g} points with 80% power. More languages shrink only the second "
             "term: past a few languages per tier, only seeds buy power.")  # fmt: skip
    if plan.empty:
        doc.text("Nothing to plan from: the table has no zero-shot scores.")
        return
    if plan["df"].max() == 0:
        doc.text("The pilot has one seed per condition: no run-level variance can be estimated. A pilot needs at "
                 "least two seeds (of `none` alone, if nothing else).")  # fmt: skip
    plan["test_alpha"] = plan["test_alpha"].map(lambda level: f"{level:.2g}")  # 0.00086 would print as 0.00
    doc.table(plan, "power", f"Seeds planner per encoder x target x tier (source: {plan['source'].iloc[0]}).")


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
    caption = ("One row per encoder x condition x target x tier; the ratio and slope columns describe the whole "
               "encoder x condition x target and repeat on its rows.")  # fmt: skip
    doc.table(summary, "robustness", caption, show=False)
    shown = ["encoder", "intermediate", "target", "tier", "gain", "ci_low", "ci_high", "p_value", "q_value",
             "verdict", "n_languages", "n_seeds"]  # fmt: skip
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


def scale_section(doc: Document, decisions: Decisions, gaps: pd.DataFrame, metrics: dict[str, str]) -> pd.DataFrame:
    """Scale plots and tables; returns the smallest-null-size table for the findings."""
    doc.heading("Scale")
    gap_tiers = grouped(gaps, "gap", "tier") if not gaps.empty else None
    scale = scale_table(decisions.summary, gap_tiers)
    if len(decisions.scale_slopes):
        doc.table(decisions.scale_slopes, "scale_slopes", "Gain against log10 encoder size per condition x target x "
                  "tier: ordinary least squares over runs (each run's tier gain), with its verdict.")  # fmt: skip
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


def method_lines(decisions: Decisions) -> list[str]:
    """How the numbers were made, with this report's own number of tests."""
    return [
        "Gain: condition minus `none` for the same encoder, target, seed and language (paired by seed and "
        "language); English, the training language, is left out of every tier.",
        "Tiers from the language table: high >= 20 GiB of CC-100, mid >= 2 GiB, low < 2 GiB or unseen by XLM-R; "
        "the embedded world's languages have the tier their world sets and their share of its corpus as size.",
        "Unit of replication: the run (seed). Within a seed, a tier's gain is the mean over its languages present "
        "in both runs; the estimate is the mean of those per-seed gains, its 95% interval Student's t with S - 1 "
        "degrees of freedom over the S seeds, and its p the two-sided one-sample t-test of zero. Languages are "
        "never resampled as if independent: every language of a run shares that run's noise. The claim is about "
        "the languages tested. Where runs wrote per-example scores, the test set's sampling variance (a paired "
        "bootstrap over example ids) is added to the squared standard error: it widens, never replaces, the seed "
        "level.",
        f"Claims: a result needs at least {decisions.min_seeds} seeds (below that the report is descriptive; one "
        "seed gives no interval) and a tier at least 3 languages. Multiple comparisons: Benjamini-Hochberg at "
        f"{decisions.alpha:.0%} over all {decisions.n_tests} tests this report decided (tier gains, slopes on "
        "pre-training size, slopes on encoder size); `q_value` is the adjusted p.",
        "Slope on pre-training size: per seed, the least-squares slope of a language's gain on log10 of its "
        "pre-training GiB (languages with a known size), then a t-interval over seeds. Slope on encoder size: "
        "ordinary least squares of each run's tier gain on log10 parameters (statsmodels), runs as observations.",
        "Low/high ratio: Fieller's interval on the per-seed low- and high-tier gains; left out wherever the "
        "high-tier gain cannot be told from zero (the interval is then unbounded). Rank correlations over "
        "languages carry a Fisher-z interval (Bonett-Wright variance); they describe, they make no claim.",
        "Calibration: `tests/test_calibration.py` generates results tables with a known truth (run shifts, "
        "language and example noise, missing cells, 1 to 5 seeds) and holds these intervals to their coverage and "
        "the claims to their error rate.",
    ]
