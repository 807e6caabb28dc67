"""Zero-shot evaluation: every language of a task in one `test` call against one call per language.

A user without lightning_xfer evaluates a trained model once per language (a process per
language, each loading the model and the tokenizer); `lightning_xfer test` scores every language
of the task in one process and one pass. Both are timed here as subprocesses of the real CLI, side
by side in one run, on real PAN-X test sentences; both must give the same scores.

    python benchmarks/zero_shot_eval.py [--encoder multilingual-e5-small] [--examples 200]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
LANGUAGES = ["ar", "de", "en", "es", "hi", "ru", "sw", "tr", "ur", "zh"]


def test_call(encoder: str, data: str, languages: list[str], examples: int, root: Path) -> tuple[float, dict]:
    """Wall seconds of one `python -m lightning_xfer test` process, and its scores by language."""
    task = {"name": "panx", "data_dir": data, "languages": languages, "max_eval_examples": examples}
    command = [
        sys.executable, "-m", "lightning_xfer", "test", "--config", str(PROJECT / "configs/tasks/panx.yaml"),
        f"--model.encoder.name={encoder}", f"--data.tasks=[{json.dumps(task)}]", "--seed_everything=0",
        "--data.cache_features=false", "--trainer.accelerator=cpu", "--trainer.devices=1",
        "--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false", "--trainer.logger=false",
        f"--trainer.default_root_dir={root}",
    ]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=PROJECT)
    took = time.perf_counter() - start
    rows = [json.loads(line) for path in root.rglob("results.jsonl") for line in path.read_text().splitlines()]
    return took, {r["language"]: r["value"] for r in rows if r["metric"] == "f1"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encoder", default="multilingual-e5-small")
    parser.add_argument("--examples", type=int, default=200, help="test sentences per language")
    parser.add_argument("--data", default=str(PROJECT.parent / "shared" / "data" / "panx_xtreme"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        one_s, together = test_call(args.encoder, args.data, LANGUAGES, args.examples, work / "all")
        each_s, apart = 0.0, {}
        for language in LANGUAGES:
            took, scores = test_call(args.encoder, args.data, [language], args.examples, work / language)
            each_s, apart = each_s + took, {**apart, **scores}
    assert together == apart, f"scores differ: {together} vs {apart}"
    print(f"PAN-X, {len(LANGUAGES)} languages x {args.examples} sentences, {args.encoder}")
    print(f"{'way':<34}{'seconds':>9}{'ratio':>8}")
    print(f"{'one test process per language':<34}{each_s:>9.1f}{1.0:>8.2f}")
    print(f"{'one test for all (ours)':<34}{one_s:>9.1f}{each_s / one_s:>8.2f}x")


if __name__ == "__main__":
    main()
