"""Run one study run: its commands in order, resuming a training command from its last checkpoint.

The same function runs a run on this machine (`study run`) and inside a SLURM job (submitit calls
it; a preempted or timed-out job is requeued and calls it again, which resumes).

What a cluster or a user does to a run decides how it is recorded (`records`):
- one runner per run: `runner.lock` (filelock, an OS lock that dies with its holder) is taken before
  anything starts, and the run's state is read again under it; a second `study run` leaves it alone;
- each command is a child process in its own process group, so a terminal's Ctrl-C reaches the
  runner alone, which then stops the child with SIGTERM (Lightning stops at the next batch and
  `run_state` saves `last.ckpt`), and on Linux the child gets SIGTERM too if its runner dies
  (`PR_SET_PDEATHSIG`), so no orphan goes on writing the run;
- a run is complete only when its trainer wrote `finished.json` (fit ran its steps) and every command
  exited 0; a signal makes it `interrupted` (it resumes), an exception `failed`.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from lightning_xfer.run_state import FINISHED, INTERRUPTED
from lightning_xfer.study import records
from lightning_xfer.study.graph import Run

DONE, FAILED, INTERRUPTED_RUN, RUNNING = "done", "failed", "interrupted", "running"
STOP = threading.Event()
"""Set by the runner's SIGINT/SIGTERM handler (`stop_on_signals`): start nothing more."""
_children: set[subprocess.Popen] = set()
_children_lock = threading.Lock()
_training_here = threading.Event()
"""Set while an in-process command runs in this interpreter (`study run --in-process`)."""


class StudyInterrupted(KeyboardInterrupt):
    """The study was stopped by a signal; interrupted runs resume on the next `study run`."""


def is_record_writer() -> bool:
    """Under a multi-task SLURM job every task runs the command (Lightning wires the ranks up from
    SLURM's variables); only task 0 writes the run's records."""
    return os.environ.get("SLURM_PROCID", "0") == "0"


@contextlib.contextmanager
def stop_on_signals(signals: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)) -> Iterator[None]:
    """While a `study run` works: SIGINT and SIGTERM (or just `signals`) stop every running command
    cleanly (SIGTERM to its process group) and start nothing more. Only the main thread can set
    handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    STOP.clear()

    def stop(signum, _frame) -> None:
        first = not STOP.is_set()
        STOP.set()
        with _children_lock:
            for child in _children:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGTERM)
        if signum == signal.SIGINT and _training_here.is_set():
            # In-process, this handler took Ctrl-C from Lightning: hand it on as the SIGTERM that
            # Lightning's own handler (installed over this one while it runs) turns into a clean stop.
            os.kill(os.getpid(), signal.SIGTERM)
        if first:
            print(f"\n{signal.Signals(signum).name}: stopping; running commands save a checkpoint and stop "
                  "(the next `study run` resumes them)", file=sys.stderr, flush=True)  # fmt: skip

    previous = {s: signal.signal(s, stop) for s in signals}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def execute(
    run: Run,
    project: Path,
    environment: dict[str, str] | None = None,
    in_process: bool = False,
    extra_args: tuple[str, ...] = (),
) -> bool:
    """Run `run`'s commands in `project`; True when the run is complete (see `execute_run`)."""
    return execute_run(run, project, environment, in_process, extra_args) == DONE


def execute_run(
    run: Run,
    project: Path,
    environment: dict[str, str] | None = None,
    in_process: bool = False,
    extra_args: tuple[str, ...] = (),
) -> str:
    """Run `run`'s commands; `done`, `failed`, `interrupted` or `running` (another runner has it).

    Each command is its own process (a clean CUDA context, a crash that takes only that run);
    `in_process` runs them in this interpreter instead, which saves the start-up time of small
    runs (the tests' tiny studies). `extra_args` end every command (a SLURM job's devices and nodes)."""
    writer = is_record_writer()
    run.directory.mkdir(parents=True, exist_ok=True)
    lock = FileLock(run.directory / records.RUNNER_LOCK) if writer else contextlib.nullcontext()
    try:
        lock.acquire(timeout=0) if writer else None
    except Timeout:
        return RUNNING
    try:
        if records.status_of(run).state == "done":  # read again under the lock: another runner may have done it
            return DONE
        return _commands(run, project, environment, in_process, extra_args, writer)
    finally:
        if writer:
            lock.release()


def _commands(run: Run, project: Path, environment, in_process: bool, extra_args, writer: bool) -> str:
    started = time.time()
    if writer:
        records.mark_running(run)
    env = {**os.environ, **(environment or {})}
    env.setdefault("PYTHONUNBUFFERED", "1")
    # A process that has started W&B exports its service's address; a run's command that inherited
    # it would log through that process's service (and lose its run file when that one is gone).
    env.pop("WANDB_SERVICE", None)
    for command in run.commands:
        argv = [*command, *extra_args]
        if argv[0] == "fit" and _fit_done(run, argv):
            continue  # trained to its end before an interruption of the test: only the test is left
        resumed_from = None
        if argv[0] == "fit" and run.last_checkpoint.exists():
            resumed_from = str(run.last_checkpoint)
            argv.append(f"--ckpt_path={resumed_from}")  # the global step continues where it stopped
        (run.directory / INTERRUPTED).unlink(missing_ok=True)
        if writer:
            records.mark_attempt(run, argv[0], resumed_from)
        if STOP.is_set():
            returncode, last_line = -signal.SIGTERM, "stopped before it started"
        elif in_process:
            returncode, last_line = _call_in_process(argv, run.directory)
        else:
            returncode, last_line = _call([sys.executable, "-m", "lightning_xfer", *argv], project, env, run, writer)
        reason = _interruption(run, returncode)
        if reason is None and argv[0] == "fit" and returncode == 0 and not (run.directory / FINISHED).exists():
            reason = "fit ended before its last step"
        if reason is not None:
            if writer:
                records.mark_interrupted(run, argv[0], reason, started)
            return INTERRUPTED_RUN
        if returncode != 0:
            if writer:
                records.mark_failed(run, argv[0], returncode, last_line, started)
            return FAILED
    if writer:
        records.mark_complete(run, started)
    return DONE


def _fit_done(run: Run, argv: list[str]) -> bool:
    """Whether this fit ran to its end and wrote what the next phase needs (its exported encoder)."""
    exports = [a.split("=", 1)[1] for a in argv if a.startswith("--export.dirpath=")]
    exported = all((Path(d) / "config.json").exists() for d in exports) or "--export.enabled=false" in argv
    return records.fit_finished(run) and exported


def _interruption(run: Run, returncode: int) -> str | None:
    """Why a command stopped early, if a signal stopped it: the trainer's record, a stop request, or a
    kill (a negative exit code: the signal's number)."""
    record = records.read_json(run.directory / INTERRUPTED)
    if record is not None:
        return str(record.get("reason", "signal"))
    if STOP.is_set():
        return "the study was stopped"
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    return None


def log_name() -> str:
    """`log.txt` for SLURM task 0 (and outside SLURM); `log.task<N>.txt` for the other tasks of a
    multi-task job, whose lines would otherwise interleave in one file."""
    task = os.environ.get("SLURM_PROCID", "0")
    return "log.txt" if task == "0" else f"log.task{task}.txt"


def _call_in_process(argv: list[str], directory: Path) -> tuple[int, str]:
    from lightning_xfer.cli import run_lightning_cli
    from lightning_xfer.errors import UserError

    with open(directory / log_name(), "a", encoding="utf-8") as log:
        log.write(f"\n$ (in process) {' '.join(argv)}\n")
        saved_argv, sys.argv = sys.argv, ["lightning_xfer"]  # LightningCLI reads sys.argv too
        _training_here.set()
        try:
            with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
                run_lightning_cli(argv)
        except UserError as error:  # what `python -m lightning_xfer` prints and exits 2 for
            log.write(f"lightning_xfer: error: {error}\n")
            return 2, f"lightning_xfer: error: {error}".splitlines()[0]
        except KeyboardInterrupt:  # outside Lightning's loops (loading, export): the runner records it
            STOP.set()
            return -signal.SIGINT, "KeyboardInterrupt"
        except SystemExit as stop:  # Lightning exits 1 after Ctrl-C (its `run_state` record says so)
            if (directory / INTERRUPTED).exists():
                STOP.set()
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
            return code, f"exit {stop.code}"
        except Exception as error:  # a failed run is recorded, and the study goes on with the others
            log.write(traceback.format_exc())
            return 1, f"{type(error).__name__}: {error}".splitlines()[0]
        finally:
            _training_here.clear()
            sys.argv = saved_argv
    if (directory / INTERRUPTED).exists():  # Lightning's SIGTERMException exits cleanly (code None)
        STOP.set()
    return 0, ""


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the runner dies (Linux), so it saves and stops."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG


def _call(command: list[str], project: Path, env: dict[str, str], run: Run, writer: bool) -> tuple[int, str]:
    """Run one command with its output appended to the run's log; (exit code, last non-empty line).

    The child writes into the log file itself, not into a pipe this process reads: while this
    process waits in a signal handler for the child to save (`stop_commands`) nobody would read the
    pipe, and a child that prints more than its buffer would block; and a runner that dies (a job
    requeued, a runner killed) would leave the child saving with a closed pipe (`BrokenPipeError`
    at its next print)."""
    log_path = run.directory / log_name()
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(f"\n$ {' '.join(command[1:])}\n")
        log.flush()
        start = log.tell()
        process = subprocess.Popen(command, cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True,
                                   preexec_fn=_die_with_parent if sys.platform == "linux" else None)  # fmt: skip
    with _children_lock:
        _children.add(process)
    try:
        if writer:
            records.mark_running(run, process.pid)
        process.wait()
    finally:
        with _children_lock:
            _children.discard(process)
    return process.returncode, _last_line(log_path, start)


def _last_line(path: Path, start: int) -> str:
    """The last non-empty line written to `path` after byte `start`."""
    with open(path, "rb") as handle:
        handle.seek(max(start, handle.seek(0, os.SEEK_END) - 8192))
        lines = [line.strip() for line in handle.read().decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def stop_commands(wait: float) -> None:
    """Tell every running command to save and stop (SIGTERM to its process group; `run_state` saves
    `last.ckpt` and writes `interrupted.json`), and wait up to `wait` seconds for them to exit.

    Called from a signal handler (submitit's, on SLURM's warning before a requeue): the main thread
    may be inside `Popen.wait`, whose lock a second `wait` cannot take, so this polls the processes."""
    with _children_lock:
        children = list(_children)
    for child in children:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGTERM)
    deadline = time.time() + wait
    while time.time() < deadline and any(records.process_alive(child.pid) for child in children):
        time.sleep(0.2)
