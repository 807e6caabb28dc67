"""`study run FILE`: the study's runs on this machine, in dependency order.

Complete runs are skipped, interrupted ones resume from their last checkpoint, failed ones run
again only with `retry_failed`; a run whose dependency did not complete waits for another
`study run`. With `parallel` > 1, independent runs go side by side, each pinned to its own share
of the machine's GPUs (CUDA_VISIBLE_DEVICES) when it has GPUs.
"""

from __future__ import annotations

import shutil
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

from lightning_xfer.study.execute import execute
from lightning_xfer.study.graph import Run
from lightning_xfer.study.records import status_of


def gpu_slots(parallel: int) -> list[dict[str, str]]:
    """One environment per worker: a disjoint set of GPUs each, or nothing on a CPU machine."""
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count == 0:
        return [{} for _ in range(parallel)]
    per_run = max(1, count // parallel)
    return [
        {"CUDA_VISIBLE_DEVICES": ",".join(str((slot * per_run + i) % count) for i in range(per_run))}
        for slot in range(parallel)
    ]


def prepare(run: Run) -> str:
    """What `study run` does with a run before starting it: `skip` or `run`. A stale complete run
    (the study changed) is moved aside, never deleted, and runs again."""
    state = status_of(run).state
    if state == "done":
        return "skip"
    if state == "stale":
        aside = run.directory.with_name(f"{run.directory.name}.stale-{int(time.time())}")
        shutil.move(run.directory, aside)
        print(f"{run.id}: the study changed since it ran; its old directory is kept as {aside}")
    return "run"


def run_local(
    runs: list[Run],
    project: Path,
    parallel: int = 1,
    retry_failed: bool = False,
    in_process: bool = False,
    others: list[Run] = (),
) -> dict[str, str]:
    """Run what is left of `runs`; returns each run's outcome (done, failed, running, blocked).

    `others`: the study's runs outside this selection (`--only`); a selected run whose dependency
    is among them starts when that dependency is complete on disk.
    """
    if in_process:
        parallel = 1  # LightningCLI runs are not made to share one interpreter at the same time
    outcome: dict[str, str] = {r.id: status_of(r).state for r in others}
    outcome.update({key: "blocked" for key, state in outcome.items() if state not in ("done", "running")})
    pending = []
    for run in runs:
        state = status_of(run).state
        if state == "failed" and not retry_failed:
            outcome[run.id] = "failed"
        elif state == "running":  # another `study run` (or an orphaned command) is working on it
            outcome[run.id] = "running"
            print(f"{run.id}: already running ({status_of(run).detail or run.directory}); left alone")
        elif prepare(run) == "skip":
            outcome[run.id] = "done"
        else:
            pending.append(run)
    slots = gpu_slots(parallel)
    free = list(range(parallel))
    active: dict[Future, tuple[Run, int]] = {}
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        while pending or active:
            for run in list(pending):
                if any(outcome.get(d) in ("failed", "blocked", "running") for d in run.depends_on):
                    outcome[run.id] = "blocked"
                    pending.remove(run)
                elif free and all(outcome.get(d) == "done" for d in run.depends_on):
                    slot = free.pop()
                    print(f"== {run.id}: starting", flush=True)
                    active[pool.submit(execute, run, project, slots[slot], in_process)] = (run, slot)
                    pending.remove(run)
            if not active:
                for run in pending:  # waiting on runs this call never started
                    outcome[run.id] = "blocked"
                break
            finished, _ = wait(active, return_when=FIRST_COMPLETED)
            for future in finished:
                run, slot = active.pop(future)
                free.append(slot)
                outcome[run.id] = "done" if future.result() else "failed"
                print(f"== {run.id}: {outcome[run.id]} ({status_of(run).detail or run.directory})", flush=True)
    return {run.id: outcome[run.id] for run in runs}
