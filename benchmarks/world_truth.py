"""The true gains of the embedded world's study with a known answer, measured over many seeds.

`world-planted` teaches what the target `world-kind` needs and `world-control` teaches nothing a
target uses (`lightning_xfer/synthetic/world/planted.py`). This runs `configs/studies/embedded-truth.yaml`
(pre-training, then none / world-control / world-planted, then the target) with the study runner,
and writes the truth a report of the study should find: per condition, target and tier (English,
the high / mid / low tier's zero-shot languages, all nine), the gain over `none` with its standard
error. The run (seed) is the unit: per seed, a tier's gain is the mean over its languages of the
condition's score minus `none`'s (paired by seed and language); then mean and standard error over
seeds.

    python benchmarks/world_truth.py [--seeds 10] [--eval 200] [--steps 300] [--pretrain-steps 2000]

Complete runs are skipped when run again (the study resumes), so more seeds add only their runs.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

PROJECT = Path(__file__).resolve().parents[1]
STUDY = PROJECT / "configs" / "studies" / "embedded-truth.yaml"
RESULT = PROJECT / "benchmarks" / "results" / "world_truth.csv"
NONE = "none"


def tiers() -> dict[str, list[str]]:
    """English, each tier's zero-shot languages, and all of them."""
    from lightning_xfer.synthetic.world import WORLD

    zero_shot = [language for language in WORLD.languages if language.code != "en"]
    grouped = {tier: [lang.code for lang in zero_shot if lang.tier == tier] for tier in ("high", "mid", "low")}
    return {"en": ["en"], **grouped, "all": [lang.code for lang in zero_shot]}


def scores(study: Path, variables: dict[str, str]) -> pd.DataFrame:
    """The target runs' test scores in their primary metric: condition, target, seed, language, value."""
    from lightning_xfer.results_table import primary_rows
    from lightning_xfer.study.graph import expand
    from lightning_xfer.study.spec import load_study
    from lightning_xfer.study.table import results_table

    spec = load_study(study, variables)
    table = primary_rows(results_table(spec.study, expand(spec)))
    return table[table["phase"] == "target"][["intermediate", "target", "seed", "language", "value"]]


def truth(table: pd.DataFrame) -> pd.DataFrame:
    """Gain over `none` per condition, target and tier: mean and standard error over seeds (with the
    mean scores of `none` and of the condition beside it)."""
    by_run = table.pivot_table(index=["target", "seed", "language"], columns="intermediate", values="value")
    rows = []
    for condition in [c for c in by_run.columns if c != NONE]:
        for (target, tier), seeds in _tier_means(by_run, condition).groupby(["target", "tier"], sort=False):
            gains = seeds["gain"]
            error = gains.std(ddof=1) / math.sqrt(len(gains)) if len(gains) > 1 else math.nan
            rows.append({"condition": condition, "target": target, "tier": tier,
                         "languages": " ".join(tiers()[tier]), "seeds": len(gains), "none": seeds[NONE].mean(),
                         "score": seeds["score"].mean(), "gain": gains.mean(), "se": error})  # fmt: skip
    return pd.DataFrame(rows).round(2)


def _tier_means(by_run: pd.DataFrame, condition: str) -> pd.DataFrame:
    """Per target, tier and seed: the mean over the tier's languages of none, the condition and their difference."""
    paired = by_run[[NONE, condition]].dropna().reset_index()
    paired["gain"] = paired[condition] - paired[NONE]
    frames = []
    for tier, codes in tiers().items():
        mean = paired[paired["language"].isin(codes)].groupby(["target", "seed"])[[NONE, condition, "gain"]].mean()
        frames.append(mean.rename(columns={condition: "score"}).assign(tier=tier).reset_index())
    return pd.concat(frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (the unit of the standard error)")
    parser.add_argument("--eval", default="null", help="test examples per language (null: all 200)")
    parser.add_argument("--steps", default="300", help="steps of each intermediate and target run")
    parser.add_argument("--pretrain-steps", default="2000")
    parser.add_argument("--out", default="runs/world-truth")
    parser.add_argument("--result", type=Path, default=RESULT)
    args = parser.parse_args()
    os.chdir(PROJECT)  # the study's paths (and so its runs' hashes) are relative to the project
    variables = {"seeds": str(list(range(args.seeds))), "eval": args.eval, "steps": args.steps,
                 "pretrain_steps": args.pretrain_steps, "out": args.out}  # fmt: skip
    sets = [item for name, value in variables.items() for item in ("--set", f"{name}={value}")]
    start = time.perf_counter()
    command = [sys.executable, "-m", "lightning_xfer", "study", "run", str(STUDY), "--in-process", *sets]
    # One thread per run: the encoder is tiny (0.36M parameters), so a second thread gains little, and
    # on a shared CPU two threads per run wait on each other (pre-training took 7x longer here).
    subprocess.run(command, check=True, env={"OMP_NUM_THREADS": "1", **os.environ})
    took = time.perf_counter() - start
    table = truth(scores(STUDY, variables))
    args.result.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.result, index=False)
    print(table.to_string(index=False))
    print(f"{args.result} ({args.seeds} seeds, eval {args.eval}, steps {args.steps}; the study took {took:.0f} s)")


if __name__ == "__main__":
    main()
