"""Per-example scores, where a run wrote them: the paired bootstrap over test examples.

A run may write `<run dir>/examples/<task>-<language>.jsonl`, one JSON object per test example with
its id (`id` or `example_id`) and its score (`score`, 0..1 or in points). A language's test set is a
sample of the language too: with the same resampled example ids for the condition and for `none`
(paired: an easy example is easy for both), the gain's spread over examples is the test-set part of
its uncertainty. Runs without the files simply get no example term.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd


def example_path(runs_root: Path, run: str, task: str, language: str) -> Path:
    """Where a run's per-example scores for one task and language live."""
    return Path(runs_root) / run / "examples" / f"{task}-{language}.jsonl"


def read_examples(path: Path) -> dict[str, float] | None:
    """Example id -> score, or None when the file is absent or unreadable."""
    if not path.exists():
        return None
    scores = {}
    try:
        for line in path.read_text().splitlines():
            if line.strip():
                record = json.loads(line)
                scores[str(record.get("id", record.get("example_id")))] = float(record["score"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
    return scores


def paired_example_gains(
    condition: dict[str, float], baseline: dict[str, float], n_boot: int, rng: np.random.Generator
) -> np.ndarray | None:
    """(n_boot,): the gain's deviation from its observed value under a paired resample of examples.

    Only ids both runs scored take part; the same drawn ids serve both conditions. Scores in 0..1
    are turned into points (x100) to match the table. None: no shared examples.
    """
    ids = sorted(set(condition) & set(baseline))
    if not ids:
        return None
    treated = np.array([condition[i] for i in ids])
    base = np.array([baseline[i] for i in ids])
    scale = 100.0 if max(np.abs(treated).max(), np.abs(base).max()) <= 1.0 else 1.0
    difference = scale * (treated - base)
    draws = rng.integers(0, len(ids), size=(n_boot, len(ids)))
    return difference[draws].mean(axis=1) - difference.mean()


def example_deltas(
    cells: pd.DataFrame,
    seeds: list[int],
    languages: list[str],
    runs_root: Path | None,
    n_boot: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray | None, int]:
    """(n_boot, seeds, languages) example-bootstrap deviations for a gain grid, and how many cells had them.

    `cells` are `paired_gains` rows of one encoder x condition x target. None when no cell has
    example files for both its runs.
    """
    if runs_root is None:
        return None, 0
    deltas = np.zeros((n_boot, len(seeds), len(languages)))
    found = 0
    for cell in cells.itertuples():
        condition = read_examples(example_path(runs_root, cell.run, cell.target, cell.language))
        baseline = read_examples(example_path(runs_root, cell.baseline_run, cell.target, cell.language))
        if condition is None or baseline is None:
            continue
        deviation = paired_example_gains(condition, baseline, n_boot, rng)
        if deviation is not None:
            deltas[:, seeds.index(cell.seed), languages.index(cell.language)] = deviation
            found += 1
    return (deltas if found else None), found
