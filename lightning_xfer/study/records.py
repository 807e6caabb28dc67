"""What a run leaves in its directory so a study can be stopped, restarted and inspected.

- `complete.json`, written last and atomically after the run's results, and only when its trainer
  wrote `finished.json` (it ran its steps: `lightning_xfer.run_state`): the run is done. A process
  that exits 0 after a signal (Lightning exits cleanly on SIGTERM) is never mistaken for a done run.
- `failed.json`: the failing command, its exit code and the last line it printed (an exception).
- `interrupted.json`: a signal stopped it (Ctrl-C, SIGTERM, SLURM's SIGUSR2, or a kill); the trainer
  saved `checkpoints/last.ckpt` where it could. It resumes on the next `study run`.
- `running.json`: the host and process running it, and since when; `runner.lock`, held by the
  runner while it runs (an OS lock: released when the process dies, whatever killed it);
  `heartbeat.json`: the trainer's last progress. A run whose `running.json` outlives both its lock
  and its heartbeat (`lost_after` seconds) is lost: its host died. It resumes too.
- `attempts.jsonl`: one line per command started (which command, the checkpoint it resumed from).
- `log.txt`: everything the run's commands printed (`log.task<N>.txt` for the other tasks of a
  multi-task SLURM job).

Every record but `complete.json` carries the run's config hash, so an interrupted run whose study
changed since is moved aside as stale, like a complete one, instead of resuming the old checkpoint.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from lightning_xfer.run_state import FINISHED, HEARTBEAT, INTERRUPTED
from lightning_xfer.study.graph import Run

RUNNER_LOCK = "runner.lock"
LOST_AFTER = 900.0
"""Seconds without a heartbeat after which a run whose runner lock is free counts as lost."""


def write_json(path: Path, record: dict) -> None:
    """Write-then-rename, so a reader sees the whole record or none of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(record, indent=2))
    os.replace(temporary, path)


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def mark_running(run: Run, pid: int | None = None) -> None:
    """`pid`: the process doing the work (a command's own process, so that a `study run` killed
    while its command goes on is not mistaken for an interrupted run)."""
    for name in ("failed.json", INTERRUPTED):
        (run.directory / name).unlink(missing_ok=True)
    since = (read_json(run.directory / "running.json") or {}).get("since", time.time()) if pid else time.time()
    record = {"host": socket.gethostname(), "pid": pid or os.getpid(), "since": since, "config_hash": run.config_hash}
    write_json(run.directory / "running.json", record)


def mark_attempt(run: Run, command: str, resumed_from: str | None) -> None:
    run.directory.mkdir(parents=True, exist_ok=True)
    line = {"command": command, "resumed_from": resumed_from, "time": time.time()}
    with open(run.directory / "attempts.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")


def mark_failed(run: Run, command: str, returncode: int, last_line: str, started: float) -> None:
    write_json(run.directory / "failed.json", {"command": command, "returncode": returncode, "last_line": last_line,
                                              "wall_s": time.time() - started, "time": time.time()})  # fmt: skip
    (run.directory / "running.json").unlink(missing_ok=True)


def mark_interrupted(run: Run, command: str, reason: str, started: float) -> None:
    """Keep the trainer's own record (its reason, step and saved checkpoint) and add the runner's."""
    record = read_json(run.directory / INTERRUPTED) or {"reason": reason}
    record.update(command=command, config_hash=run.config_hash, wall_s=time.time() - started, time=time.time())
    record.setdefault("runner_reason", reason)
    write_json(run.directory / INTERRUPTED, record)
    (run.directory / "running.json").unlink(missing_ok=True)


def fit_finished(run: Run) -> bool:
    """Whether the run's trainer ran to its end (`finished.json`) and saved its final weights."""
    record = read_json(run.directory / FINISHED)
    return record is not None and Path(record.get("checkpoint", "")).exists()


def mark_complete(run: Run, started: float) -> None:
    write_json(run.directory / "complete.json", {"run": run.id, "config_hash": run.config_hash,
                                                "wall_s": time.time() - started, "time": time.time()})  # fmt: skip
    (run.directory / "running.json").unlink(missing_ok=True)


@dataclass
class RunStatus:
    """Where one run stands."""

    state: str
    """`done`, `stale` (done or interrupted, but the study changed since), `running`, `interrupted`
    (a signal stopped it, or its process is gone: it resumes), `lost` (no runner lock and no heartbeat
    for `lost_after` seconds: its host died; it resumes), `failed` or `pending`."""
    wall_s: float | None = None
    detail: str = ""


def status_of(run: Run, lost_after: float = LOST_AFTER) -> RunStatus:
    complete = read_json(run.directory / "complete.json")
    if complete is not None:
        if complete.get("config_hash") != run.config_hash:
            return RunStatus("stale", complete.get("wall_s"), "the study's commands or configs changed since")
        return RunStatus("done", complete.get("wall_s"))
    failed = read_json(run.directory / "failed.json")
    if failed is not None:
        return RunStatus("failed", failed.get("wall_s"), f"{failed.get('command')}: {failed.get('last_line', '')}")
    running = read_json(run.directory / "running.json")
    if running is not None and (runner_alive(run) or _fresh_elsewhere(running, run, lost_after)):
        return RunStatus("running", time.time() - running.get("since", time.time()), heartbeat_text(run))
    interrupted = read_json(run.directory / INTERRUPTED)
    record = interrupted or running
    if record is not None and record.get("config_hash", run.config_hash) != run.config_hash:
        return RunStatus(
            "stale", record.get("wall_s"), "interrupted, and the study's commands or configs changed since"
        )
    if interrupted is not None:
        step = f" at step {interrupted['step']}" if interrupted.get("step") is not None else ""
        if "test" in str(interrupted.get("stage", "")).lower():  # Lightning's step reads 0 while testing
            step = " during its test"
        saved = "resumes from last.ckpt" if interrupted.get("saved") else "resumes"
        return RunStatus("interrupted", interrupted.get("wall_s"), f"{interrupted.get('reason')}{step}; {saved}")
    if running is not None:
        if running.get("host") == socket.gethostname():
            return RunStatus("interrupted", time.time() - running.get("since", time.time()),
                             "its process is gone; resumes from last.ckpt")  # fmt: skip
        return RunStatus("lost", time.time() - running.get("since", time.time()),
                         f"no runner and {heartbeat_text(run)} on {running.get('host')}; resumes")  # fmt: skip
    return RunStatus("pending")


def runner_alive(run: Run) -> bool:
    """Whether a runner holds the run's lock (any host sharing the file system, where it locks)."""
    path = run.directory / RUNNER_LOCK
    if not path.exists():
        return False
    lock = FileLock(path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return True
    lock.release()
    return False


def heartbeat_age(run: Run) -> float | None:
    record = read_json(run.directory / HEARTBEAT)
    return None if record is None else time.time() - float(record.get("time", 0))


def heartbeat_text(run: Run) -> str:
    record = read_json(run.directory / HEARTBEAT)
    if record is None:
        return "no heartbeat yet"
    return f"heartbeat {time.time() - float(record.get('time', 0)):.0f} s ago (step {record.get('step')})"


def _fresh_elsewhere(running: dict, run: Run, lost_after: float) -> bool:
    """A run on another host whose file system keeps locks to itself: alive while its heartbeat is
    fresh (or, before the first heartbeat, while it started less than `lost_after` ago)."""
    if running.get("host") == socket.gethostname():
        return process_alive(int(running.get("pid", 0)))
    age = heartbeat_age(run)
    return (age if age is not None else time.time() - running.get("since", 0)) < lost_after


def process_alive(pid: int) -> bool:
    """Whether `pid` runs; a zombie (killed, not yet reaped: its parent was killed too) does not."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc (macOS): trust the signal check
    return state != "Z"
