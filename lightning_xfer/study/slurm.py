"""`study run FILE --executor slurm`: the study's runs as SLURM jobs through submitit.

One job array per phase (pretrain runs first, then intermediate, then target and zero-shot runs)
and per set of SLURM settings (an encoder may ask for its own nodes and GPUs); each phase starts
after the one before ended (`afterany`), and each of its jobs first checks that its own dependency
completed, so one failed intermediate run holds back only its own targets. A job that is preempted
or reaches its time limit is requeued by submitit (`checkpoint` below) and, run again, resumes its
training command from `last.ckpt`. A multi-node run is one job with `slurm.nodes` nodes and one task per
GPU; Lightning reads SLURM's variables in each task to set up the ranks.

`--executor local-submitit` uses submitit's local executor (same code path, processes on this
machine, phases one after the other): it is how this is tested without a cluster.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from lightning_xfer.errors import UserError
from lightning_xfer.study.execute import execute
from lightning_xfer.study.graph import Run
from lightning_xfer.study.local import prepare
from lightning_xfer.study.records import status_of
from lightning_xfer.study.spec import SlurmSettings, StudySpec


class RunJob:
    """A submitit job that runs one study run, and requeues itself when SLURM stops it early."""

    def __init__(self, run: Run, project: Path, dependencies: tuple[Run, ...] = (), extra_args: tuple[str, ...] = ()):
        self.run, self.project, self.dependencies, self.extra_args = run, project, dependencies, extra_args

    def __call__(self) -> bool:
        unfinished = [d.id for d in self.dependencies if status_of(d).state != "done"]
        if unfinished:  # the phase before ended (`afterany`), but not this run's own dependency
            raise RuntimeError(f"{self.run.id} not started: {', '.join(unfinished)} did not complete")
        if not execute(self.run, self.project, extra_args=self.extra_args):
            raise RuntimeError(f"{self.run.id} failed: {status_of(self.run).detail}")
        return True

    def checkpoint(self):
        """Called by submitit on preemption or timeout: submit the same run again (it resumes)."""
        import submitit

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
    failed (unless `retry_failed`)."""
    chosen = []
    for run in runs:
        state = status_of(run).state
        if state == "running":
            print(f"{run.id}: still running, not submitted again")
        elif state == "failed" and not retry_failed:
            print(f"{run.id}: failed before; not submitted (--retry-failed runs it again)")
        elif prepare(run) == "run":
            chosen.append(run)
    return chosen


def run_submitit(
    spec: StudySpec, runs: list[Run], project: Path, cluster: str, wait: bool = False, retry_failed: bool = False
) -> list[str]:
    """Submit what is left of the study; returns the job ids (waits for local jobs).

    One job array per phase and per set of SLURM settings (an encoder's own nodes and GPUs); a
    later phase starts after the earlier one ended (`afterany`), and each of its jobs checks that
    its own dependency completed, so one failed intermediate run stops only its own targets.
    """
    try:
        import submitit
    except ImportError:
        raise UserError("--executor slurm needs submitit: pip install -e '.[slurm]'") from None
    by_id = {r.id: r for r in runs}
    executor = submitit.AutoExecutor(folder=Path(spec.out) / "submitit" / "%j", cluster=cluster)
    job_ids: list[str] = []
    previous: list = []
    for group in phases(to_submit(runs, retry_failed)):
        jobs = []
        for settings, members in _by_settings(spec, group):
            _configure(executor, spec.study, settings, cluster, previous)
            devices = (f"--trainer.devices={max(1, settings.gpus_per_node)}", f"--trainer.num_nodes={settings.nodes}")
            extra = devices if cluster == "slurm" else ()  # the local executor has no GPUs to match
            with executor.batch():
                jobs += [
                    executor.submit(RunJob(run, project, tuple(by_id[d] for d in run.depends_on if d in by_id), extra))
                    for run in members
                ]
        job_ids += [job.job_id for job in jobs]
        if cluster != "slurm":
            for job in jobs:  # the local executor has no dependencies: finish the phase first
                job.exception()
        previous = jobs
    if wait and cluster == "slurm":
        for job in previous:
            job.exception()
    return job_ids


def _by_settings(spec: StudySpec, runs: list[Run]) -> list[tuple[SlurmSettings, list[Run]]]:
    groups: dict[str, tuple[SlurmSettings, list[Run]]] = {}
    for run in runs:
        settings = slurm_settings(spec, run)
        groups.setdefault(repr(settings), (settings, []))[1].append(run)
    return list(groups.values())


def _configure(executor, name: str, settings: SlurmSettings, cluster: str, previous: list) -> None:
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
        if previous:
            additional["dependency"] = "afterany:" + ":".join(job.job_id for job in previous)
        executor.update_parameters(slurm_partition=settings.partition, slurm_additional_parameters=additional)
