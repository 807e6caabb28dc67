"""Every run's scores, one JSON line per (task, language, metric), and a readable table.

`results.jsonl` lands in the run's log directory (or `path`). Rows carry what a study needs to
group them later: encoder, seed, phase, stage, step, git commit. Rows are keyed by (run, stage, task,
language, metric), and validation rows by their step too: an evaluation replaces the rows of an
earlier one with the same keys (a test run again after an interruption, a resumed validation)
instead of appending duplicates, in one atomic write, so an interrupted run never leaves half a table.

Each test evaluation also writes, beside `results.jsonl`, `examples/<task>-<language>.jsonl`: one
JSON line per scored example with its `id`, `score` (in points) and the values its metric adds up
(`lightning_xfer.evaluation.example_records`), for a paired bootstrap over test examples
(`lightning_xfer.analysis.examples`). A later test of the same run replaces the files. Validation
writes none: it runs every epoch to select checkpoints, and the report resamples test examples only.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections import defaultdict
from pathlib import Path

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback

from lightning_xfer.evaluation import Score, example_records


def run_directory(trainer: pl.Trainer) -> Path:
    """This run's own directory: where its checkpoints go, else the logger's, else the root.

    With TensorBoard/CSV loggers that is `<root>/lightning_logs/version_N`; with W&B it is
    `<save_dir>/<project>/<run id>`, so runs never share a results file or an exported encoder.
    """
    callback = trainer.checkpoint_callback
    if callback is not None and getattr(callback, "dirpath", None):
        return Path(callback.dirpath).parent
    return Path(trainer.log_dir or trainer.default_root_dir)


def evaluation_directory(trainer: pl.Trainer) -> Path:
    """Where an evaluation's outputs go: the run that trained the evaluated checkpoint, so `fit` then
    `test` in two processes keep one run's results together; otherwise this run's directory."""
    checkpoint = Path(trainer.ckpt_path) if trainer.ckpt_path else None
    if checkpoint is not None and checkpoint.parent.name == "checkpoints" and trainer.state.fn != "fit":
        return checkpoint.parent.parent
    return run_directory(trainer)


def git_commit() -> str:
    """The commit of the installed lightning_xfer source (or "unknown" outside a checkout)."""
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


class ResultsWriter(Callback):
    """Append scores after each validation and test, and print them per language."""

    def __init__(self, path: str | None = None, phase: str | None = None, run_name: str | None = None):
        """
        Args:
            path: The results file; default `results.jsonl` in the run's directory (for `test` of a
                checkpoint: the directory of the run that trained it).
            phase: Phase of the study this run belongs to (`pretrain`, `intermediate`, `target`,
                `zero-shot`); a study sets it. None: what the run's tasks declare (`tasks.phase_of`, which
                the CLI fills in).
            run_name: Name stored in each row; default the log directory's name.
        """
        self.path = path
        self.phase = phase
        self.run_name = run_name
        self.seed: int | None = None
        """The run's `seed_everything` value (the CLI sets it; None: not seeded)."""
        self._commit = None
        self._checkpoint_step: int | None = None

    def _file(self, trainer: pl.Trainer) -> Path:
        """`path`, else the run directory of the evaluated checkpoint, else this run's log directory."""
        return Path(self.path) if self.path else evaluation_directory(trainer) / "results.jsonl"

    def write(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> Path | None:
        scores: list[Score] = getattr(pl_module, "latest_scores", [])
        if not scores or not trainer.is_global_zero:
            return None
        self._commit = self._commit or git_commit()
        path = self._file(trainer)
        path.parent.mkdir(parents=True, exist_ok=True)
        common = {
            "run": self.run_name or path.parent.name,
            "phase": self.phase or "target",
            "encoder": pl_module.encoder_spec.name,
            "seed": self.seed,
            # how several training tasks were mixed (`temperature T=2.0`); None with one task
            "task_sampling": getattr(trainer.datamodule, "sampling_description", lambda: None)(),
            "epoch": trainer.current_epoch,
            "global_step": self._step(trainer),
            "checkpoint": trainer.ckpt_path,
            "git_commit": self._commit,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        lines = "".join(
            json.dumps(
                {
                    **common,
                    "stage": s.stage,
                    "task": s.task,
                    "language": s.language,
                    "metric": s.metric,
                    "value": s.value,
                    "examples": s.examples,
                }
            )
            + "\n"
            for s in scores
        )
        new_keys = {row_key(json.loads(line)) for line in lines.splitlines()}
        kept = [line for line in (path.read_text(encoding="utf-8").splitlines() if path.exists() else [])
                if line.strip() and row_key(json.loads(line)) not in new_keys]  # fmt: skip
        write_atomically(path, "".join(f"{line}\n" for line in kept) + lines)
        return path

    def write_examples(self, trainer: pl.Trainer, pl_module: pl.LightningModule, directory: Path) -> int:
        """Per-example records of every test set into `directory/examples/`; how many files."""
        datamodule = getattr(trainer, "datamodule", None)
        eval_sets = getattr(datamodule, "eval_sets", {}).get("test", [])
        predictions = getattr(pl_module, "latest_predictions", {})
        written = 0
        for eval_set in eval_sets:
            records = example_records(eval_set, predictions.get((eval_set.task.name, eval_set.language), {}))
            if records:
                path = directory / "examples" / f"{eval_set.task.name}-{eval_set.language}.jsonl"
                write_atomically(path, "".join(json.dumps(record) + "\n" for record in records))
                written += 1
        return written

    def on_load_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict) -> None:
        # `test --ckpt_path` restores the weights but not the loops: `trainer.global_step` reads 0 there
        self._checkpoint_step = checkpoint.get("global_step")

    def _step(self, trainer: pl.Trainer) -> int:
        """The training step of the weights scored: the step reached while fitting, else the step of
        the checkpoint loaded (`test --ckpt_path`), which the results table's `step` column shows."""
        if self._checkpoint_step is not None and trainer.state.fn != "fit":
            return self._checkpoint_step
        return trainer.global_step

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.sanity_checking:
            self.write(trainer, pl_module)

    def on_test_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        path = self.write(trainer, pl_module)
        if path and trainer.is_global_zero:
            files = self.write_examples(trainer, pl_module, path.parent)
            print(format_table(pl_module.latest_scores))
            print(f"results written to {path}")
            if files:
                print(f"per-example scores of {files} test sets in {path.parent / 'examples'}")


def row_key(row: dict) -> tuple:
    """What identifies a score: (run, stage, task, language, metric), and the step for every stage
    but `test` (each validation of a run is its own score; a test is the run's one score)."""
    step = row.get("global_step") if row.get("stage") != "test" else None
    return row.get("run"), row.get("stage"), row.get("task"), row.get("language"), row.get("metric"), step


def format_table(scores: list[Score]) -> str:
    """One block per (stage, task): a row per language, a column per metric, and the average."""
    blocks = defaultdict(lambda: defaultdict(dict))
    for s in scores:
        blocks[(s.stage, s.task)][s.language][s.metric] = s.value
    out = []
    for (stage, task), by_language in blocks.items():
        metrics = list(next(iter(by_language.values())))
        out.append(f"\n{stage} / {task}")
        out.append("language  " + "  ".join(f"{m:>14}" for m in metrics))
        for language, values in by_language.items():
            out.append(f"{language:<8}  " + "  ".join(f"{values.get(m, float('nan')):14.2f}" for m in metrics))
        averages = [sum(v.get(m, 0.0) for v in by_language.values()) / len(by_language) for m in metrics]
        out.append(f"{'avg':<8}  " + "  ".join(f"{a:14.2f}" for a in averages))
    return "\n".join(out)


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step: a reader sees the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
