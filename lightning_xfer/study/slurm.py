"""`study run FILE --executor slurm`: the study's runs as SLURM jobs through submitit.

One job array per phase (intermediate runs first, then target and zero-shot runs), the second
array starting only after the first succeeded (`afterok`). A job that is preempted or reaches its
time limit is requeued by submitit (`checkpoint` below) and, run again, resumes its training
command from `last.ckpt`. A multi-node run is one job with `slurm.nodes` nodes and one task per
GPU; Lightning reads SLURM's variables in each task to set up the ranks.

`--executor local-submitit` uses submitit's local executor (same code path, processes on this
machine, phases one after the other): it is how this is tested without a cluster.
"""

from __future__ import annotations

from pathlib import Path

from lightning_xfer.errors import UserError
from lightning_xfer.study.execute import execute
from lightning_xfer.study.graph import Run
from lightning_xfer.study.local import prepare
from lightning_xfer.study.records import status_of
from lightning_xfer.study.spec import StudySpec


class RunJob:
    """A submitit job that runs one study run, and requeues itself when SLURM stops it early."""

    def __init__(self, run: Run, project: Path):
        self.run, self.project = run, project

    def __call__(self) -> bool:
        if not execute(self.run, self.project):
            raise RuntimeError(f"{self.run.id} failed: {status_of(self.run).detail}")  # afterok must not fire
        return True

    def checkpoint(self):
        """Called by submitit on preemption or timeout: submit the same run again (it resumes)."""
        import submitit

        return submitit.helpers.DelayedSubmission(RunJob(self.run, self.project))


def phases(runs: list[Run]) -> list[list[Run]]:
    """Runs grouped so every run's dependencies are in an earlier group."""
    first = [r for r in runs if not r.depends_on]
    return [first, [r for r in runs if r.depends_on]] if len(first) < len(runs) else [first]


def run_submitit(spec: StudySpec, runs: list[Run], project: Path, cluster: str, wait: bool = False) -> list[str]:
    """Submit what is left of the study; returns the job ids (waits for local jobs)."""
    try:
        import submitit
    except ImportError:
        raise UserError("--executor slurm needs submitit: pip install -e '.[slurm]'") from None
    executor = submitit.AutoExecutor(folder=Path(spec.out) / "submitit" / "%j", cluster=cluster)
    settings = spec.slurm
    executor.update_parameters(
        name=spec.study,
        timeout_min=settings.timeout_min,
        nodes=settings.nodes,
        tasks_per_node=max(1, settings.gpus_per_node),
        gpus_per_node=settings.gpus_per_node,
        cpus_per_task=settings.cpus_per_task,
        **({"mem_gb": settings.mem_gb} if settings.mem_gb else {}),
    )
    if cluster == "slurm":
        executor.update_parameters(
            slurm_partition=settings.partition, slurm_additional_parameters=dict(settings.additional)
        )
    job_ids: list[str] = []
    previous: list = []
    for group in phases([r for r in runs if prepare(r) == "run"]):
        if not group:
            continue
        if previous and cluster == "slurm":
            dependency = "afterok:" + ":".join(job.job_id for job in previous)
            executor.update_parameters(slurm_additional_parameters={**settings.additional, "dependency": dependency})
        elif previous:
            for job in previous:  # the local executor has no dependencies: finish the phase first
                job.result()
        with executor.batch():
            jobs = [executor.submit(RunJob(run, project)) for run in group]
        job_ids += [job.job_id for job in jobs]
        previous = jobs
    if wait or cluster != "slurm":
        for job in previous:
            job.result()
    return job_ids
