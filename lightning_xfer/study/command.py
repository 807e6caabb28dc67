"""`python -m lightning_xfer study {show,run,status,results} FILE`."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from lightning_xfer.errors import UserError
from lightning_xfer.results_table import write_table
from lightning_xfer.study.graph import Run, load_runs
from lightning_xfer.study.records import status_of
from lightning_xfer.study.spec import parse_assignments
from lightning_xfer.study.table import pivot, results_table


def study_command(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        allow_abbrev=False, prog="lightning_xfer study", description="The three-phase study grid."
    )
    sub = parser.add_subparsers(dest="action", required=True)
    parsers = {
        "show": sub.add_parser("show", allow_abbrev=False, help="print every run with its exact commands"),
        "run": sub.add_parser(
            "run", allow_abbrev=False, help="run what is left of the study (skips complete runs, resumes others)"
        ),
        "status": sub.add_parser("status", allow_abbrev=False, help="done / running / failed / pending per run"),
        "results": sub.add_parser("results", allow_abbrev=False, help="collect one results table and print the pivot"),
    }
    for action in parsers.values():
        action.add_argument("file", type=Path, help="the study file (configs/studies/*.yaml)")
        action.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="set a variable")
        action.add_argument("--only", action="append", default=[], metavar="TEXT",
                            help="only the runs whose id contains TEXT (repeatable)")  # fmt: skip
    run_parser = parsers["run"]
    run_parser.add_argument("--parallel", type=int, default=1, help="independent runs side by side")
    run_parser.add_argument("--retry-failed", action="store_true", help="run failed runs again")
    run_parser.add_argument("--executor", choices=["local", "slurm", "local-submitit"], default="local")
    in_process = "run the commands in this process, one at a time (saves start-up time on small runs)"
    run_parser.add_argument("--in-process", action="store_true", help=in_process)
    parsers["results"].add_argument("--format", choices=["csv", "parquet", "jsonl"], default="csv")
    parsers["results"].add_argument("--output", type=Path, help="default: <out>/results.<format>")
    args = parser.parse_args(argv)

    spec, every_run = load_runs(args.file, parse_assignments(args.set))
    runs = every_run
    if args.only:
        runs = [r for r in runs if any(text in r.id for text in args.only)]
        if not runs:
            raise UserError(f"{args.file}: no run id contains {args.only}")
    if args.action == "show":
        show(runs)
    elif args.action == "status":
        from lightning_xfer.study.hardware import estimates

        print_status(runs, estimates(spec))
    elif args.action == "run":
        started = time.time()
        project = Path.cwd()
        if args.executor == "local":
            from lightning_xfer.study.execute import StudyInterrupted
            from lightning_xfer.study.local import run_local

            others = [r for r in every_run if r not in runs]
            try:
                outcome = run_local(runs, project, args.parallel, args.retry_failed, args.in_process, others)
            except StudyInterrupted as stopped:
                print_status(runs)
                print(f"lightning_xfer: {stopped}", flush=True)
                sys.exit(130)  # the shell's code for a run stopped by Ctrl-C
            print_status(runs)
            print(f"wall time {time.time() - started:.0f} s")
            if any(state != "done" for state in outcome.values()):
                raise UserError("some runs did not complete (see `study status`); run `study run` again to resume")
        else:
            from lightning_xfer.study.slurm import run_submitit

            cluster = "slurm" if args.executor == "slurm" else "local"
            try:
                jobs = run_submitit(spec, runs, project, cluster, retry_failed=args.retry_failed)
            except KeyboardInterrupt:  # Ctrl-C while local jobs run: each job stops its own command
                print_status(runs)
                print("lightning_xfer: stopped; interrupted runs resume on the next `study run`", flush=True)
                sys.exit(130)
            print(f"submitted {len(jobs)} jobs: {', '.join(jobs)}" if jobs else "nothing left to run")
    else:
        table = results_table(spec.study, runs)
        output = args.output or Path(spec.out) / f"results.{args.format}"
        write_table(table, output)
        print(f"{len(table)} rows from {table['run'].nunique()} complete runs of {len(runs)} -> {output}")
        summary = pivot(table)
        if not summary.empty:
            print("\ntest: language average of each target's primary metric (mean over seeds)")
            print(summary.to_string())


def show(runs: list[Run]) -> None:
    for run in runs:
        after = f" (after {', '.join(run.depends_on)})" if run.depends_on else ""
        print(f"== {run.id} [{run.config_hash}]{after}")
        for line in run.shell():
            print(f"   {line}")


def print_status(runs: list[Run], plans: dict[tuple[str, str], str] | None = None) -> None:
    """One line per run: state, wall time, detail, and (with `plans`) the planner's estimate."""
    counts: dict[str, int] = {}
    width = max(len(r.id) for r in runs)
    for run in runs:
        status = status_of(run)
        counts[status.state] = counts.get(status.state, 0) + 1
        wall = f"{status.wall_s:8.0f} s" if status.wall_s is not None else " " * 10
        estimate = f"  [{plans[(run.encoder, run.phase)]}]" if plans else ""
        print(f"{run.id:<{width}}  {status.state:<11} {wall}  {status.detail}{estimate}")
    print("  ".join(f"{state}: {n}" for state, n in sorted(counts.items())))
