"""What a run leaves in its directory so a study can be stopped, restarted and inspected.

- `complete.json`, written last and atomically after the run's results: the run is done. Only
  this file makes a run complete, so a run killed at any moment is never mistaken for a done one.
- `failed.json`: the failing command, its exit code and the last line it printed.
- `running.json`: the host and process running it, and since when.
- `attempts.jsonl`: one line per command started (which command, the checkpoint it resumed from).
- `log.txt`: everything the run's commands printed.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from lightning_xfer.study.graph import Run


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
    (run.directory / "failed.json").unlink(missing_ok=True)
    since = (read_json(run.directory / "running.json") or {}).get("since", time.time()) if pid else time.time()
    record = {"host": socket.gethostname(), "pid": pid or os.getpid(), "since": since}
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


def mark_complete(run: Run, started: float) -> None:
    write_json(run.directory / "complete.json", {"run": run.id, "config_hash": run.config_hash,
                                                "wall_s": time.time() - started, "time": time.time()})  # fmt: skip
    (run.directory / "running.json").unlink(missing_ok=True)


@dataclass
class RunStatus:
    """Where one run stands."""

    state: str
    """`done`, `stale` (done, but the study changed since), `running`, `interrupted` (was running, its
    process is gone: it resumes), `failed` or `pending`."""
    wall_s: float | None = None
    detail: str = ""


def status_of(run: Run) -> RunStatus:
    complete = read_json(run.directory / "complete.json")
    if complete is not None:
        if complete.get("config_hash") != run.config_hash:
            return RunStatus("stale", complete.get("wall_s"), "the study's commands or configs changed since")
        return RunStatus("done", complete.get("wall_s"))
    failed = read_json(run.directory / "failed.json")
    if failed is not None:
        return RunStatus("failed", failed.get("wall_s"), f"{failed.get('command')}: {failed.get('last_line', '')}")
    running = read_json(run.directory / "running.json")
    if running is not None:
        alive = running.get("host") != socket.gethostname() or _alive(int(running.get("pid", 0)))
        elapsed = time.time() - running.get("since", time.time())
        return RunStatus("running" if alive else "interrupted", elapsed, "" if alive else "resumes from last.ckpt")
    return RunStatus("pending")


def _alive(pid: int) -> bool:
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
