"""Scale: does the gain (and the transfer gap) shrink as the encoder grows?

Parameter counts are those the XLM-R papers give for the named checkpoints (embeddings included);
the offline presets are counted from their shape; any other encoder is unknown and left off the
scale plots rather than guessed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lightning_xfer.analysis.robustness import TIERS

PARAMETERS = {
    "xlm-roberta-base": 270e6,
    "xlm-roberta-large": 560e6,
    "xlm-roberta-xl": 3.5e9,
    "xlm-roberta-xxl": 10.7e9,
    "multilingual-e5-small": 118e6,
    # mT5: the encoder stack lightning_xfer loads, counted from the released configs (`plan`).
    "mt5-small": 146_940_608,
    "mt5-base": 277_040_256,
    "mt5-large": 564_446_720,
    "mt5-xl": 1_669_958_656,
    "mt5-xxl": 5_655_173_120,
    "bloom-560m": 559_214_592,
    "bloom-1b1": 1_065_314_304,
    "bloom-1b7": 1_722_408_960,
    "bloom-3b": 3_002_557_440,
    "bloom-7b1": 7_069_016_064,
    "bloom": 176_247_271_424,
    "bloom-176b": 176_247_271_424,
}
"""Encoder name -> parameter count (Conneau et al. 2020; Goyal et al. 2021; the e5 model card; mT5
and BLOOM as `python -m lightning_xfer plan` counts them from their configs). A `-lora` suffix (the
study's name for a LoRA entry of the same model) counts as the model."""


def size_label(parameters: float) -> str:
    """`3.5B`, `559M`, or two significant digits below 10M (`0.37M`: the embedded world's encoders)."""
    if parameters >= 1e9:
        return f"{parameters / 1e9:.1f}B"
    return f"{parameters / 1e6:.0f}M" if parameters >= 1e7 else f"{parameters / 1e6:.2g}M"


def preset_parameters(name: str) -> float | None:
    """Parameters of an offline preset (`tiny`, `small`) from its shape, without building it.

    XLM-R layout: word (vocab), position (514) and type (1) embeddings with a LayerNorm; per layer
    four h x h attention projections, two LayerNorms and the h x i x h feed-forward; the pooler.
    """
    from lightning_xfer.encoder.presets import PRESETS  # imports torch: only for a preset's name

    if name not in PRESETS:
        return None
    p = PRESETS[name]
    h, i = p.hidden_size, p.intermediate_size
    embeddings = (p.vocab_size + 514 + 1) * h + 2 * h
    layer = 4 * (h * h + h) + (h * i + i) + (i * h + h) + 4 * h
    return float(embeddings + p.num_hidden_layers * layer + h * h + h)


def parameter_count(encoder: str) -> float | None:
    """The encoder's parameter count, by name (a hub path's last part counts); None when unknown."""
    short = encoder.split("/")[-1].removesuffix("-lora")
    if short in PARAMETERS:
        return PARAMETERS[short]
    return preset_parameters(short)


def scale_table(summary: pd.DataFrame, gaps: pd.DataFrame | None = None) -> pd.DataFrame:
    """Tier gains (with intervals) of every encoder beside its parameter count, and the tier's mean gap.

    `gaps` are `grouped(transfer_gaps, "gap", "tier")` rows; the gap is that of the `none` runs.
    """
    table = summary[summary["tier"].isin(TIERS)].copy()
    table["parameters"] = [parameter_count(e) for e in table["encoder"]]
    if gaps is not None and not gaps.empty:
        baseline = gaps[gaps["intermediate"] == "none"][["encoder", "target", "tier", "gap"]]
        table = table.merge(baseline, on=["encoder", "target", "tier"], how="left")
    columns = ["intermediate", "target", "tier", "encoder", "parameters", "gain", "ci_low", "ci_high"]
    columns += ["gap"] if "gap" in table.columns else []
    return table[columns].sort_values(["intermediate", "target", "tier", "parameters"]).reset_index(drop=True)


def size_slopes(seed_gains: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per condition x target x tier: does the gain grow or shrink with encoder size, at the run level?

    Observations are runs: each (encoder of known size, seed) contributes its tier gain (the mean
    over the tier's languages within that seed), regressed on log10 parameters by ordinary least
    squares (statsmodels). Runs of different encoders are independent, so the residual holds the
    seed noise; languages are never counted as replicates. Needs two sizes and three runs.

    Columns: intermediate, target, tier, slope (points per tenfold parameters), ci_low, ci_high,
    p_value, n_sizes, n_runs, min_seeds (the fewest seeds any size has).
    """
    import statsmodels.api as sm

    columns = ["intermediate", "target", "tier", "slope", "ci_low", "ci_high", "p_value", "n_sizes", "n_runs",
               "min_seeds"]  # fmt: skip
    rows = []
    frame = seed_gains.assign(parameters=[parameter_count(e) for e in seed_gains["encoder"]]).dropna(
        subset=["parameters", "gain"]
    )
    for (condition, target, tier), group in frame.groupby(["intermediate", "target", "tier"]):
        sizes = group["parameters"].nunique()
        if sizes < 2 or len(group) < 3:
            continue
        x = sm.add_constant(np.log10(group["parameters"].to_numpy(dtype=float)))
        fit = sm.OLS(group["gain"].to_numpy(dtype=float), x).fit()
        low, high = fit.conf_int(alpha=1 - level)[1]
        p_value = float(fit.pvalues[1]) if len(group) > 2 else np.nan
        seeds = int(group.groupby("encoder")["seed"].nunique().min())
        rows.append({"intermediate": condition, "target": target, "tier": tier, "slope": float(fit.params[1]),
                     "ci_low": float(low), "ci_high": float(high), "p_value": p_value, "n_sizes": int(sizes),
                     "n_runs": len(group), "min_seeds": seeds})  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def smallest_null_size(scale: pd.DataFrame) -> pd.DataFrame:
    """Per condition x target x tier: the smallest known size whose gain interval includes zero.

    Columns: intermediate, target, tier, encoder, parameters (NaN/None when every size's interval
    excludes zero), n_sizes (sizes with a known count and an interval).
    """
    rows = []
    for (condition, target, tier), group in scale.groupby(["intermediate", "target", "tier"]):
        known = group.dropna(subset=["parameters", "ci_low", "ci_high"]).sort_values("parameters")
        null = known[(known["ci_low"] <= 0) & (known["ci_high"] >= 0)]
        encoder, parameters = (null.iloc[0]["encoder"], null.iloc[0]["parameters"]) if len(null) else (None, np.nan)
        rows.append({"intermediate": condition, "target": target, "tier": tier, "encoder": encoder,
                     "parameters": parameters, "n_sizes": len(known)})  # fmt: skip
    return pd.DataFrame(rows, columns=["intermediate", "target", "tier", "encoder", "parameters", "n_sizes"])
