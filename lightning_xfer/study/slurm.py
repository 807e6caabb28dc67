"""`study run FILE --executor slurm`: the study's runs as SLURM jobs through submitit.

One job array per phase (pretrain runs first, then intermediate, then target and zero-shot runs)
and per encoder entry (an encoder may ask for its own nodes and GPUs), cut into arrays of at most
`slurm.max_array_size` jobs (SLURM's MaxArraySize); an array starts after the arrays holding its
runs' own dependencies ended (`afterany`: one encoder's targets never wait for another encoder's
intermediate runs), and each of its jobs first checks that its own dependency completed, so one
failed intermediate run holds back only its own targets. A multi-node run is one job with
`slurm.nodes` nodes and one task per GPU; Lightning reads SLURM's variables in each task to set up
the ranks.

Requeue is submitit's checkpointing, the one mechanism used. Lightning's own SLURM requeue (its
`SLURMEnvironment` saves and calls `scontrol requeue` on SIGUSR1) never acts: submitit asks SLURM
for SIGUSR2, which Lightning leaves alone (`run_state` turns it into a save). SLURM sends SIGUSR2
`signal_delay_s` (submitit's default: 90 s) before a time limit or preemption; submitit's handler in
the job calls `RunJob.checkpoint`, which tells the running command to save (SIGTERM to its process
group: `run_state` saves `last.ckpt` at the step it reached and writes `interrupted.json`) and waits
for it to exit, then returns the same job, which submitit requeues; run again, it resumes the
training command from that `last.ckpt`. A `scancel` (SIGTERM to every process of the job) stops the
command the same way and leaves the run `interrupted`, for the next `study run` to submit again.

`--executor local-submitit` uses submitit's local executor (same code path, processes on this
machine, phases one after the other): it is how this is tested without a cluster.
"""

from __future__ import annotations

import signal
from dataclasses import replace
from pathlib import Path
from typing import Any

from lightning_xfer.errors import UserError
from lightning_xfer.study.execute import DONE, execute_run, stop_commands, stop_on_signals
from lightning_xfer.study.graph import Run
from lightning_xfer.study.local import prepare
from lightning_xfer.study.records import status_of
from lightning_xfer.study.spec import SlurmSettings, StudySpec

SAVE_WAIT = 75.0
"""Seconds a job waits, after SLURM's warning, for its command to save before it is requeued: under
submitit's 90 s between the warning and the kill."""


class RunJob:
    """A submitit job that runs one study run, and requeues itself when SLURM stops it early."""

    def __init__(self, run: Run, project: Path, dependencies: tuple[Run, ...] = (), extra_args: tuple[str, ...] = ()):
        self.run, self.project, self.dependencies, self.extra_args = run, project, dependencies, extra_args

    def __call__(self) -> bool:
        unfinished = [d.id for d in self.dependencies if status_of(d).state != "done"]
        if unfinished:  # the phase before ended (`afterany`), but not this run's own dependency
            raise RuntimeError(f"{self.run.id} not started: {', '.join(unfinished)} did not complete")
        # Ctrl-C under `--executor local-submitit` reaches this job (it shares the terminal's process
        # group): stop the command with SIGTERM at once, as the local runner does, instead of dying
        # and leaving it to hear of it from the kernel. SIGTERM stays submitit's (`scancel`, requeue).
        with stop_on_signals((signal.SIGINT,)):
            outcome = execute_run(self.run, self.project, extra_args=self.extra_args)
        if outcome != DONE:
            raise RuntimeError(f"{self.run.id} {outcome}: {status_of(self.run).detail}")
        return True

    def checkpoint(self):
        """Called by submitit on SLURM's warning (preemption or time limit): the running command
        saves and stops, then the same run is submitted again (it resumes from that checkpoint)."""
        import submitit

        stop_commands(wait=SAVE_WAIT)

        return submitit.helpers.DelayedSubmission(RunJob(self.run, self.project, self.dependencies, self.extra_args))


def phases(runs: list[Run]) -> list[list[Run]]:
    """Runs grouped by depth so every run's dependencies are in an earlier group: runs that depend on
    nothing to be submitted, then those after them (pretrain -> intermediate -> target)."""
    by_id = {r.id: r for r in runs}
    depth: dict[str, int] = {}

    def level(run: Run) -> int:
        if run.id not in depth:
            depth[run.id] = 1 + max((level(by_id[d]) for d in run.depends_on if d in by_id), default=-1)
        return depth[run.id]

    groups: dict[int, list[Run]] = {}
    for run in runs:
        groups.setdefault(level(run), []).append(run)
    return [groups[k] for k in sorted(groups)]


def slurm_settings(spec: StudySpec, run: Run) -> SlurmSettings:
    """The study's SLURM settings with the run's encoder's own (`encoders[].slurm`) over them."""
    entry = next((e for e in spec.encoders if e.name == run.encoder), None)
    return replace(spec.slurm, **(entry.slurm if entry else {}))


def to_submit(runs: list[Run], retry_failed: bool) -> list[Run]:
    """What a new submission should run: not what is done, still running (queued or in a job), or
    failed (unless `retry_failed`), nor what waits on a run this submission leaves to another (its
    job would only find that dependency unfinished; the submission that runs it, or the next one,
    submits it)."""
    chosen: dict[str, Run] = {}
    states = {run.id: status_of(run).state for run in runs}
    for run in [run for group in phases(runs) for run in group]:  # a run's dependencies come first
        state = states[run.id]
        waits = [d for d in run.depends_on if d in states and states[d] != "done" and d not in chosen]
        if state == "running":
            print(f"{run.id}: still running, not submitted again")
        elif state == "failed" and not retry_failed:
            print(f"{run.id}: failed before; not submitted (--retry-failed runs it again)")
        elif waits:
            print(f"{run.id}: waits for {', '.join(waits)} ({states[waits[0]]}), not submitted")
        elif prepare(run) == "run":
            chosen[run.id] = run
    return list(chosen.values())


def run_submitit(
    spec: StudySpec, runs: list[Run], project: Path, cluster: str, wait: bool = False, retry_failed: bool = False
) -> list[str]:
    """Submit what is left of the study; returns the job ids (waits for local jobs).

    One job array per phase and per encoder entry, at most `max_array_size` jobs each; an array
    waits (`afterany`) for the arrays holding its runs' dependencies, and each of its jobs checks
    that its own dependency completed, so one failed intermediate run stops only its own targets.
    """
    try:
        import submitit
    except ImportError:
        raise UserError("--executor slurm needs submitit: pip install -e '.[slurm]'") from None
    by_id = {r.id: r for r in runs}
    executor = submitit.AutoExecutor(folder=Path(spec.out) / "submitit" / "%j", cluster=cluster)
    job_of: dict[str, Any] = {}  # run id -> its job, submitted in this call
    jobs: list = []
    for group in phases(to_submit(runs, retry_failed)):
        jobs = []
        for settings, members in _by_encoder(spec, group):
            devices = (f"--trainer.devices={max(1, settings.gpus_per_node)}", f"--trainer.num_nodes={settings.nodes}")
            extra = devices if cluster == "slurm" else ()  # the local executor has no GPUs to match
            for chunk in _arrays_of(members, settings.max_array_size):
                after = [job_of[d] for run in chunk for d in run.depends_on if d in job_of]
                _configure(executor, spec.study, settings, cluster, after)
                with executor.batch():
                    array = [
                        executor.submit(
                            RunJob(run, project, tuple(by_id[d] for d in run.depends_on if d in by_id), extra)
                        )
                        for run in chunk
                    ]
                job_of.update(zip((run.id for run in chunk), array, strict=True))
                jobs += array
        if cluster != "slurm":
            for job in jobs:  # the local executor has no dependencies: finish the phase first
                job.exception()
    if wait and cluster == "slurm":
        for job in job_of.values():
            job.exception()
    return [job.job_id for job in job_of.values()]


def _by_encoder(spec: StudySpec, runs: list[Run]) -> list[tuple[SlurmSettings, list[Run]]]:
    """The runs of one phase by encoder entry (whose SLURM settings they share), in study order."""
    groups: dict[str, list[Run]] = {}
    for run in runs:
        groups.setdefault(run.encoder, []).append(run)
    return [(slurm_settings(spec, members[0]), members) for members in groups.values()]


def _arrays_of(runs: list[Run], max_array_size: int) -> list[list[Run]]:
    if max_array_size < 1:
        raise UserError(f"slurm.max_array_size must be at least 1 (SLURM's MaxArraySize - 1), got {max_array_size}")
    return [runs[start : start + max_array_size] for start in range(0, len(runs), max_array_size)]


def _configure(executor, name: str, settings: SlurmSettings, cluster: str, after: list) -> None:
    """Set the next array's resources and, on SLURM, its dependency: `afterany` on the arrays holding
    the jobs in `after` (an array's id stands for all its tasks, so the line stays short)."""
    executor.update_parameters(
        name=name,
        timeout_min=settings.timeout_min,
        nodes=settings.nodes,
        tasks_per_node=max(1, settings.gpus_per_node),
        gpus_per_node=settings.gpus_per_node,
        cpus_per_task=settings.cpus_per_task,
        **({"mem_gb": settings.mem_gb} if settings.mem_gb else {}),
    )
    if cluster == "slurm":
        additional = dict(settings.additional)
        arrays = dict.fromkeys(job.job_id.split("_")[0] for job in after)
        if arrays:
            additional["dependency"] = "afterany:" + ":".join(arrays)
        executor.update_parameters(slurm_partition=settings.partition, slurm_additional_parameters=additional)
