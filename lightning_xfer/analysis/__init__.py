"""The robustness analysis: pure functions on a study's results table, one concern per module.

    scores      test-stage primary-metric scores; language facts (tier, CC-100 size, script, family)
    gains       condition - none paired by seed; English - language transfer gaps; grouped means
    intervals   small-sample intervals with the seed as unit: t, Fieller's ratio, Spearman's rho
    examples    per-example files and the paired bootstrap over test examples
    robustness  the summary: per-seed tier gains, t-intervals and tests, low/high ratio, slope on size
    claims      which results are claims: enough seeds, Benjamini-Hochberg over every test
    power       the seeds planner: variance components of a pilot, detectable gain, seeds needed
    domains     gains by (intermediate domain, target domain)
    scale       parameter counts, gains against size, the smallest size with a null interval
    findings    templated sentences from the numbers
    figures     matplotlib figures (Agg), one message each
    planted     generated results tables with known effects (the calibration tests' truth)

`python -m lightning_xfer report` (lightning_xfer.report) puts them together.
"""

from lightning_xfer.analysis.gains import gain_table, grouped, language_means, paired_gains, transfer_gaps
from lightning_xfer.analysis.robustness import robustness_summary
from lightning_xfer.analysis.scores import primary_scores, with_language_facts

__all__ = [
    "gain_table",
    "grouped",
    "language_means",
    "paired_gains",
    "primary_scores",
    "robustness_summary",
    "transfer_gaps",
    "with_language_facts",
]
