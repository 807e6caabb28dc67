"""The report's figures, one message each, readable in print.

Colours are Okabe and Ito's colour-blind-safe palette, each encoder (or tier) also gets its own
marker so a grey-scale print still separates them; axes say their units; points carry their
language codes. Functions return a matplotlib `Figure` built without pyplot: no global backend or
figure registry is touched, saving renders through the Agg canvas, and a notebook displays it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from lightning_xfer.analysis.robustness import ALL, TIERS
from lightning_xfer.analysis.scale import size_label

OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#F0E442", "#000000"]
GROUPS = [*TIERS, ALL]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]


def _style(index: int) -> dict:
    return {"color": OKABE_ITO[index % len(OKABE_ITO)], "marker": MARKERS[index % len(MARKERS)]}


def against_size(language_values: pd.DataFrame, value: str, ylabel: str, title: str) -> Figure:
    """`value` per language (one point per encoder and language) against CC-100 GiB, log x, with a
    least-squares trend on log10(GiB) per encoder. Languages without a size are listed, not drawn."""
    figure = Figure(figsize=(7, 4.5))
    axes = figure.subplots()
    sized = language_values[language_values["cc100_gib"].astype(float) > 0]
    for index, (encoder, rows) in enumerate(sized.groupby("encoder")):
        x, y = rows["cc100_gib"].astype(float).to_numpy(), rows[value].to_numpy()
        axes.scatter(x, y, s=28, label=encoder, **_style(index))
        for code, xi, yi in zip(rows["language"], x, y, strict=True):
            axes.annotate(code, (xi, yi), xytext=(3, 3), textcoords="offset points", fontsize=7)
        if len(rows) >= 2 and np.ptp(np.log10(x)) > 0:
            slope, intercept = np.polyfit(np.log10(x), y, 1)
            grid = np.logspace(np.log10(x.min()), np.log10(x.max()), 20)
            axes.plot(grid, intercept + slope * np.log10(grid), color=_style(index)["color"], linewidth=1.2,
                      label=f"{encoder} trend: {slope:+.2f} per 10x GiB")  # fmt: skip
    unsized = sorted(set(language_values["language"]) - set(sized["language"]))
    axes.set_xscale("log")
    axes.axhline(0, color="grey", linewidth=0.8)
    axes.set_xlabel("pre-training data for the language (GiB, log scale: CC-100 for XLM-R; the world's corpus)")
    axes.set_ylabel(ylabel)
    axes.set_title(
        title + (f"\n(not drawn, no pre-training size: {', '.join(unsized)})" if unsized else ""), fontsize=10
    )
    axes.legend(fontsize=7, frameon=False)
    figure.tight_layout()
    return figure


def tier_bars(summary: pd.DataFrame, title: str, ylabel: str) -> Figure:
    """Mean gain per tier (and over all zero-shot languages) with its t-interval over seeds, one bar per
    encoder within each group; a tier without languages is an empty slot, not a zero bar."""
    figure = Figure(figsize=(6.5, 4))
    axes = figure.subplots()
    encoders = sorted(summary["encoder"].unique())
    width = 0.8 / max(len(encoders), 1)
    for index, encoder in enumerate(encoders):
        rows = summary[summary["encoder"] == encoder].set_index("tier").reindex(GROUPS)
        x = np.arange(len(GROUPS)) + (index - (len(encoders) - 1) / 2) * width
        error = np.vstack([rows["gain"] - rows["ci_low"], rows["ci_high"] - rows["gain"]])
        style = _style(index)
        axes.bar(x, rows["gain"], width * 0.9, color=style["color"], label=encoder,
                 yerr=np.nan_to_num(error), capsize=3, hatch=["", "//", "..", "xx"][index % 4])  # fmt: skip
    axes.axhline(0, color="grey", linewidth=0.8)
    axes.set_xticks(np.arange(len(GROUPS)), [f"{t}-resource" for t in TIERS] + ["all zero-shot"])
    axes.set_xlabel("target languages by pre-training resource tier (CC-100 size; set by hand in the world)")
    axes.set_ylabel(ylabel)
    axes.set_title(title, fontsize=10)
    axes.legend(fontsize=8, frameon=False)
    figure.tight_layout()
    return figure


def against_parameters(scale: pd.DataFrame, value: str, ylabel: str, title: str) -> Figure:
    """`value` (gain with its interval as error bars, or gap) against encoder parameters, log x,
    one line per tier; tiers are nudged apart sideways so their bars do not hide each other."""
    figure = Figure(figsize=(6.5, 4))
    axes = figure.subplots()
    known = scale.dropna(subset=["parameters", value])
    for index, tier in enumerate(TIERS):
        rows = known[known["tier"] == tier].sort_values("parameters")
        if rows.empty:
            continue
        x = rows["parameters"].to_numpy(dtype=float) * 1.04 ** (index - 1)
        y = rows[value].to_numpy(dtype=float)
        style = _style(index)
        error = None
        if value == "gain":
            error = np.nan_to_num(np.vstack([y - rows["ci_low"].to_numpy(), rows["ci_high"].to_numpy() - y]))
        axes.errorbar(x, y, yerr=error, label=f"{tier}-resource", linewidth=1.2, capsize=3, **style)
    axes.set_xscale("log")
    sizes = known.drop_duplicates("parameters").sort_values("parameters")
    labels = [f"{encoder}\n{size_label(n)}" for encoder, n in zip(sizes["encoder"], sizes["parameters"], strict=True)]
    axes.set_xticks(sizes["parameters"], labels, fontsize=7)
    axes.minorticks_off()
    axes.axhline(0, color="grey", linewidth=0.8)
    axes.set_xlabel("encoder parameters (log scale)")
    axes.set_ylabel(ylabel)
    axes.set_title(title, fontsize=10)
    axes.legend(fontsize=8, frameon=False)
    figure.tight_layout()
    return figure
