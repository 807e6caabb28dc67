"""`study run FILE`: the study's runs on this machine, in dependency order.

Complete runs are skipped, interrupted and lost ones resume from their last checkpoint, failed ones
run again only with `retry_failed`; a run whose dependency did not complete waits for another
`study run`. With `parallel` > 1, independent runs go side by side, each pinned to its own share
of the machine's GPUs (CUDA_VISIBLE_DEVICES) when it has GPUs. A run's state is read again just
before it starts (another `study run` may have taken or finished it), and `execute` takes its lock.

SIGINT (Ctrl-C) and SIGTERM stop the study: running commands save a checkpoint and stop, nothing new
starts, and `StudyInterrupted` is raised once they are recorded as interrupted. `in_process` runs
the commands in the main thread, where Lightning's own Ctrl-C handling works.
"""

from __future__ import annotations

import shutil
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

from lightning_xfer.study.execute import DONE, INTERRUPTED_RUN, STOP, StudyInterrupted, execute_run, stop_on_signals
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
        print(f"{run.id}: the study changed since it ran (or was interrupted); its old directory is kept as {aside}")
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
    with stop_on_signals():
        _schedule(pending, outcome, project, parallel, in_process, retry_failed)
    if STOP.is_set():
        stopped = [r.id for r in runs if outcome.get(r.id) == INTERRUPTED_RUN]
        raise StudyInterrupted(f"the study was stopped: {', '.join(stopped) or 'no run'} interrupted; "
                               "run `study run` again to resume")  # fmt: skip
    return {run.id: outcome[run.id] for run in runs}


def _start(run: Run, outcome: dict[str, str], retry_failed: bool) -> bool:
    """Read the run's state again just before it starts: another `study run` may have it or have done it."""
    state = status_of(run).state
    if state == "failed" and not retry_failed:
        outcome[run.id] = "failed"
        return False
    if state == "running":
        outcome[run.id] = "running"
        print(f"{run.id}: already running ({status_of(run).detail}); left alone", flush=True)
        return False
    if state == "done":
        outcome[run.id] = "done"
        return False
    print(f"== {run.id}: starting", flush=True)
    return True


def _schedule(
    pending: list[Run], outcome: dict[str, str], project: Path, parallel: int, in_process: bool, retry_failed: bool
) -> None:
    slots = gpu_slots(parallel)
    free = list(range(parallel))
    active: dict[Future, tuple[Run, int]] = {}
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        while (pending or active) and not (STOP.is_set() and not active):
            for run in list(pending):
                if STOP.is_set():
                    break
                if any(outcome.get(d) in ("failed", "blocked", "running", INTERRUPTED_RUN) for d in run.depends_on):
                    outcome[run.id] = "blocked"
                    pending.remove(run)
                elif (free or in_process) and all(outcome.get(d) == "done" for d in run.depends_on):
                    pending.remove(run)
                    if not _start(run, outcome, retry_failed):
                        continue
                    if in_process:  # in the main thread, where Ctrl-C reaches Lightning's loops
                        _record(run, execute_run(run, project, in_process=True), outcome)
                        continue
                    slot = free.pop()
                    active[pool.submit(execute_run, run, project, slots[slot])] = (run, slot)
            if not active:
                if not any(all(outcome.get(d) == DONE for d in r.depends_on) for r in pending):
                    for run in pending:  # waiting on runs this call never started
                        outcome[run.id] = "blocked"
                    break
                continue
            finished, _ = wait(active, return_when=FIRST_COMPLETED)
            for future in finished:
                run, slot = active.pop(future)
                free.append(slot)
                _record(run, future.result(), outcome)
    for run in pending:
        outcome.setdefault(run.id, "blocked")


def _record(run: Run, result: str, outcome: dict[str, str]) -> None:
    outcome[run.id] = result
    print(f"== {run.id}: {result} ({status_of(run).detail or run.directory})", flush=True)
