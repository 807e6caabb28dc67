"""Run one study run: its commands in order, resuming a training command from its last checkpoint.

The same function runs a run on this machine (`study run`) and inside a SLURM job (submitit calls
it; a preempted or timed-out job is requeued and calls it again, which resumes).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import traceback
from collections import deque
from pathlib import Path

from lightning_xfer.study import records
from lightning_xfer.study.graph import Run


def is_record_writer() -> bool:
    """Under a multi-task SLURM job every task runs the command (Lightning wires the ranks up from
    SLURM's variables); only task 0 writes the run's records."""
    return os.environ.get("SLURM_PROCID", "0") == "0"


def execute(
    run: Run,
    project: Path,
    environment: dict[str, str] | None = None,
    in_process: bool = False,
    extra_args: tuple[str, ...] = (),
) -> bool:
    """Run `run`'s commands in `project`; True when the run is complete.

    Each command is its own process (a clean CUDA context, a crash that takes only that run);
    `in_process` runs them in this interpreter instead, which saves the start-up time of small
    runs (the tests' tiny studies). `extra_args` end every command (a SLURM job's devices and nodes)."""
    started = time.time()
    writer = is_record_writer()
    run.directory.mkdir(parents=True, exist_ok=True)
    if writer:
        records.mark_running(run)
    env = {**os.environ, **(environment or {})}
    env.setdefault("PYTHONUNBUFFERED", "1")
    # A process that has started W&B exports its service's address; a run's command that inherited
    # it would log through that process's service (and lose its run file when that one is gone).
    env.pop("WANDB_SERVICE", None)
    for command in run.commands:
        argv = [*command, *extra_args]
        resumed_from = None
        if argv[0] == "fit" and run.last_checkpoint.exists():
            resumed_from = str(run.last_checkpoint)
            argv.append(f"--ckpt_path={resumed_from}")  # the global step continues where it stopped
        if writer:
            records.mark_attempt(run, argv[0], resumed_from)
        if in_process:
            returncode, last_line = _call_in_process(argv, run.directory)
        else:
            command_line = [sys.executable, "-m", "lightning_xfer", *argv]
            returncode, last_line = _call(command_line, project, env, run, writer)
        if returncode != 0:
            if writer:
                records.mark_failed(run, argv[0], returncode, last_line, started)
            return False
    if writer:
        records.mark_complete(run, started)
    return True


def _call_in_process(argv: list[str], directory: Path) -> tuple[int, str]:
    from lightning_xfer.cli import run_lightning_cli
    from lightning_xfer.errors import UserError

    with open(directory / "log.txt", "a", encoding="utf-8") as log:
        log.write(f"\n$ (in process) {' '.join(argv)}\n")
        saved_argv, sys.argv = sys.argv, ["lightning_xfer"]  # LightningCLI reads sys.argv too
        try:
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                run_lightning_cli(argv)
        except UserError as error:  # what `python -m lightning_xfer` prints and exits 2 for
            log.write(f"lightning_xfer: error: {error}\n")
            return 2, f"lightning_xfer: error: {error}".splitlines()[0]
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
            return code, f"exit {stop.code}"
        except Exception as error:  # a failed run is recorded, and the study goes on with the others
            log.write(traceback.format_exc())
            return 1, f"{type(error).__name__}: {error}".splitlines()[0]
        finally:
            sys.argv = saved_argv
    return 0, ""


def _call(command: list[str], project: Path, env: dict[str, str], run: Run, writer: bool) -> tuple[int, str]:
    """Run one command with its output appended to the run's log; (exit code, last non-empty line)."""
    tail: deque[str] = deque(maxlen=1)
    with open(run.directory / "log.txt", "a", encoding="utf-8") as log:
        log.write(f"\n$ {' '.join(command[1:])}\n")
        log.flush()
        process = subprocess.Popen(command, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, errors="replace")  # fmt: skip
        if writer:
            records.mark_running(run, process.pid)
        for line in process.stdout:
            log.write(line)
            if line.strip():
                tail.append(line.strip())
        process.wait()
    return process.returncode, tail[0] if tail else ""
