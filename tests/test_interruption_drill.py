"""Issue 31's drill: a small study (an intermediate run and its target) run once uninterrupted, then
again under every signal a laptop or a cluster sends, mid-fit and mid-test, with a second `study run`
started beside the first, on the local executor and on `local-submitit`. Each interrupted attempt
is resumed by a plain `study run`; the final table must equal the uninterrupted one to the last
digit, with no repeated key, and every run must be done.

Who gets which signal is what sends it in practice:
- Ctrl-C: SIGINT to the terminal's foreground process group (the runner; under local-submitit also
  submitit's controller and job, which share it). Trainers run in their own session, so they hear
  of it from their runner (SIGTERM) or, when the runner dies, from the kernel (PR_SET_PDEATHSIG).
- SIGTERM: `kill` or a shutdown to the runner, or `scancel` reaching every process of a job.
- SIGUSR2: SLURM's warning before a time limit or preemption, to the trainer (local executor) or to
  the submitit job, which tells its trainer to save and requeues itself (local-submitit).
- SIGKILL: the OOM killer on a trainer, or a node dying under a job and its trainer.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
from conftest import PROJECT
from helpers import wait_for_step

from lightning_xfer.results_table import refuse_duplicates
from lightning_xfer.study.graph import expand
from lightning_xfer.study.records import process_alive, read_json, status_of
from lightning_xfer.study.spec import load_study
from lightning_xfer.study.table import results_table

pytestmark = pytest.mark.slow

INTERMEDIATE, TARGET = "intermediate.tiny.synthetic-mlm.s0", "target.tiny.synthetic-mlm.synthetic-topic.s0"
STEPS = 100
EXECUTORS = {"local": (), "local-submitit": ("--executor", "local-submitit")}


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    """configs/studies/tiny.yaml with evaluation batches of 2: the test loop lasts seconds, long
    enough to be interrupted in it (at 64 it is over in a fraction of a second)."""
    path = tmp_path_factory.mktemp("study") / "drill.yaml"
    tiny = PROJECT / "configs" / "studies" / "tiny.yaml"
    path.write_text(f"extends: {tiny}\nstudy: tiny\nout: ${{out}}\nargs: [--data.eval_batch_size=2]\n")
    return path


class Drill:
    """One study's output folder and the `study run` processes started on it."""

    def __init__(self, study: Path, out: Path, executor: str):
        self.study, self.out, self.executor = study, out, executor
        spec = load_study(study, {"out": str(out), "steps": str(STEPS)})
        self.runs = {run.id: run for run in expand(spec) if run.id in (INTERMEDIATE, TARGET)}
        self.attempt, self.started = 0, []

    def command(self) -> list[str]:
        return [sys.executable, "-m", "lightning_xfer", "study", "run", str(self.study), "--set", f"out={self.out}",
                "--set", f"steps={STEPS}", "--only", INTERMEDIATE, "--only", TARGET,
                *EXECUTORS[self.executor]]  # fmt: skip

    def start(self) -> subprocess.Popen:
        """A `study run` in its own session (as from its own terminal), its output in a file."""
        self.attempt += 1
        log = open(self.out.parent / f"{self.out.name}.runner{self.attempt}.txt", "w")  # noqa: SIM115
        process = subprocess.Popen(self.command(), cwd=PROJECT, start_new_session=True, stdout=log,
                                   stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                                   preexec_fn=_as_in_a_terminal)  # fmt: skip
        process.log = Path(log.name)
        self.started.append(process)
        return process

    def beside(self, says: str, hold: int) -> subprocess.Popen:
        """A second `study run` on the same study, once it has said `says` about the first's run (it
        read the run's state: running). The first's command `hold` is paused meanwhile, so that a fast
        machine cannot finish the run before the second has looked."""
        os.kill(hold, signal.SIGSTOP)
        try:
            second, deadline = self.start(), time.time() + 120
            while says not in second.log.read_text():
                assert second.poll() is None and time.time() < deadline, second.log.read_text()[-3000:]
                time.sleep(0.1)
        finally:
            os.kill(hold, signal.SIGCONT)
        return second

    def saved_step(self, run_id: str) -> int:
        """The step of the run's `last.ckpt`, once the attempt that saved it is over."""
        return torch.load(self.runs[run_id].last_checkpoint, map_location="cpu", weights_only=True)["global_step"]

    def progress(self, run_id: str, steps: int = 15) -> None:
        """Wait until the run has trained `steps` steps past the checkpoint it resumed from."""
        wait_for_step(self.runs[run_id], self.saved_step(run_id) + steps)

    def close(self) -> None:
        """Whatever a failed drill left running: its runners' process groups (trainers die with them)."""
        for process in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)

    def finish(self, process: subprocess.Popen, timeout: float = 240) -> str:
        process.wait(timeout=timeout)
        return process.log.read_text()

    def trainer(self, run_id: str, command: str) -> int:
        """The process running `command` ("fit" or "test") of the run, once it runs."""
        run, deadline = self.runs[run_id], time.time() + 120
        while time.time() < deadline:
            pid = (read_json(run.directory / "running.json") or {}).get("pid", 0)
            log = run.directory / "attempts.jsonl"  # the run's folder is made before its first attempt is written
            attempts = log.read_text().splitlines() if log.exists() else []
            if attempts and json.loads(attempts[-1])["command"] == command and process_alive(pid):
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                if b"lightning_xfer" in cmdline and command.encode() in cmdline:
                    return pid
            time.sleep(0.05)
        raise AssertionError(f"{run_id}: no `{command}` process")

    def in_test_loop(self, run_id: str) -> int:
        """The test process of the run once its test loop has started (its first batch's heartbeat)."""
        run, pid, deadline = self.runs[run_id], self.trainer(run_id, "test"), time.time() + 120
        while time.time() < deadline:
            beat = read_json(run.directory / "heartbeat.json") or {}
            if beat.get("pid") == pid and "TESTING" in str(beat.get("stage")):
                return pid
            time.sleep(0.02)
        raise AssertionError(f"{run_id}: the test loop never started")

    def state(self, run_id: str) -> str:
        return status_of(self.runs[run_id]).state

    def interrupted(self, run_id: str) -> dict:
        """The run's interruption record once every process of the attempt is gone."""
        run, deadline = self.runs[run_id], time.time() + 120
        while self.state(run_id) == "running" and time.time() < deadline:
            time.sleep(0.2)  # under local-submitit, a trainer whose job died can still be saving
        assert self.state(run_id) == "interrupted", status_of(run)
        return read_json(run.directory / "interrupted.json") or {}

    def table(self) -> pd.DataFrame:
        table = results_table("tiny", list(self.runs.values()))
        refuse_duplicates(table, str(self.out))
        return table.drop(columns=["study"]).sort_values(["run", "stage", "task", "language", "metric"]) \
            .reset_index(drop=True)  # fmt: skip


def _as_in_a_terminal() -> None:
    """Ctrl-C's default action, which a shell's background job (a test run with `&`) would inherit
    as ignored: Python then never raises KeyboardInterrupt, and submitit's processes never hear it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


@pytest.fixture(scope="module")
def uninterrupted(study, tmp_path_factory) -> pd.DataFrame:
    drill = Drill(study, tmp_path_factory.mktemp("uninterrupted") / "out", "local")
    try:
        printed = drill.finish(drill.start())
    finally:
        drill.close()
    assert all(drill.state(r) == "done" for r in drill.runs), printed[-3000:]
    return drill.table()


def _again_and_signal_its_trainer(drill: Drill, run_id: str, sig: signal.Signals) -> dict:
    """`study run` again until the run trained 15 steps past its last save, then `sig` to its trainer:
    the run's interrupted record."""
    runner = drill.start()
    drill.progress(run_id)
    os.kill(drill.trainer(run_id, "fit"), sig)
    drill.finish(runner)
    return drill.interrupted(run_id)


def _local(drill: Drill) -> None:
    # 1. Intermediate, mid-fit: a second `study run` beside the first leaves it alone; then SLURM's
    #    warning (SIGUSR2) to its trainer.
    runner = drill.start()
    beside = drill.beside(f"{INTERMEDIATE}: already running", hold=drill.trainer(INTERMEDIATE, "fit"))
    wait_for_step(drill.runs[INTERMEDIATE], 10)
    os.kill(drill.trainer(INTERMEDIATE, "fit"), signal.SIGUSR2)
    drill.finish(runner)
    assert "error: some runs did not complete" in drill.finish(beside)  # its target waits for the intermediate
    assert drill.interrupted(INTERMEDIATE)["reason"] == "SIGTERM or SIGUSR2"
    # 2. Intermediate, mid-fit again: the OOM killer takes its trainer.
    assert _again_and_signal_its_trainer(drill, INTERMEDIATE, signal.SIGKILL)["reason"] == "killed by SIGKILL"
    # 3. Target, mid-fit: Ctrl-C in the runner's terminal (its process group).
    runner = drill.start()
    wait_for_step(drill.runs[TARGET], 20)
    os.killpg(runner.pid, signal.SIGINT)
    printed = drill.finish(runner)
    assert runner.returncode == 130 and drill.interrupted(TARGET)["reason"] == "SIGTERM or SIGUSR2", printed[-3000:]
    # 4. Target, mid-fit again: SIGTERM to its trainer alone.
    assert _again_and_signal_its_trainer(drill, TARGET, signal.SIGTERM)["reason"] == "SIGTERM or SIGUSR2"
    # 5. Target, mid-test: SIGTERM to the runner (a shutdown); it stops its test command.
    runner = drill.start()
    drill.in_test_loop(TARGET)
    os.kill(runner.pid, signal.SIGTERM)
    printed = drill.finish(runner)
    record = drill.interrupted(TARGET)
    assert runner.returncode == 130 and "test" in record["stage"].lower(), (record, printed[-3000:])


def _local_submitit(drill: Drill) -> None:
    # 1. Intermediate, mid-fit: a second `study run` beside the first submits it no second time; then
    #    SLURM's warning (SIGUSR2) to its job, which tells the trainer to save and requeues itself.
    runner = drill.start()
    first = drill.trainer(INTERMEDIATE, "fit")
    beside = drill.beside(f"{INTERMEDIATE}: still running, not submitted again", hold=first)
    wait_for_step(drill.runs[INTERMEDIATE], 10)
    os.kill(_parent(first), signal.SIGUSR2)
    while process_alive(first):
        time.sleep(0.1)
    # 2. Intermediate, mid-fit in the requeued job: the OOM killer takes its trainer.
    drill.progress(INTERMEDIATE)
    second = drill.trainer(INTERMEDIATE, "fit")
    os.kill(second, signal.SIGKILL)
    drill.finish(runner)
    assert f"{TARGET}: waits for {INTERMEDIATE} (running), not submitted" in drill.finish(beside)
    assert second != first and drill.interrupted(INTERMEDIATE)["reason"] == "killed by SIGKILL"
    attempts = [json.loads(line) for line in (drill.runs[INTERMEDIATE].directory / "attempts.jsonl").open()]
    assert [a["command"] for a in attempts] == ["fit", "fit"] and attempts[1]["resumed_from"]  # the requeue resumed
    # 3. Target, mid-fit: `scancel` (SIGTERM to every process of the job; submitit's job ignores it).
    runner = drill.start()
    wait_for_step(drill.runs[TARGET], 20)
    trainer = drill.trainer(TARGET, "fit")
    os.kill(_parent(trainer), signal.SIGTERM)
    os.kill(trainer, signal.SIGTERM)
    drill.finish(runner)
    assert drill.interrupted(TARGET)["reason"] == "SIGTERM or SIGUSR2"
    # 4. Target, mid-fit again: Ctrl-C in the terminal of `study run` (it, submitit's controller and
    #    job). The trainer is held (SIGSTOP) until they are gone, so that a fast machine cannot finish
    #    its last steps first: what it then does is what it was told, not what it had time for.
    runner = drill.start()
    drill.progress(TARGET)
    trainer = drill.trainer(TARGET, "fit")
    os.kill(trainer, signal.SIGSTOP)
    try:
        os.killpg(runner.pid, signal.SIGINT)
        printed = drill.finish(runner)
    finally:
        os.kill(trainer, signal.SIGCONT)
    assert runner.returncode == 130 and "lightning_xfer: stopped" in printed, printed[-3000:]
    assert drill.interrupted(TARGET)["reason"] == "SIGTERM or SIGUSR2"
    # 5. Target, mid-test: its node dies (SIGKILL to the job and its test command at once).
    runner = drill.start()
    tester = drill.in_test_loop(TARGET)
    job = _parent(tester)
    os.kill(tester, signal.SIGKILL)
    os.kill(job, signal.SIGKILL)
    drill.finish(runner)
    drill.interrupted(TARGET)


@pytest.mark.parametrize("executor", list(EXECUTORS))
def test_a_study_interrupted_every_way_resumes_to_the_uninterrupted_table(executor, study, uninterrupted, tmp_path):
    started = time.time()
    drill = Drill(study, tmp_path / "out", executor)
    try:
        (_local if executor == "local" else _local_submitit)(drill)
        printed = drill.finish(drill.start())  # a plain `study run` resumes what is left, no --retry-failed
    finally:
        drill.close()
    assert all(drill.state(r) == "done" for r in drill.runs), printed[-3000:]
    table = drill.table()
    pd.testing.assert_frame_equal(table, uninterrupted, check_exact=True)
    assert (table.loc[table["stage"] == "test", "step"] == STEPS).all()  # the final weights were scored
    for run in drill.runs.values():  # no row written twice in a run's own file either
        written = run.directory / "results.jsonl"
        rows = [json.loads(line) for line in written.open()] if written.exists() else []  # an intermediate run has none
        keys = [(r["run"], r["stage"], r["task"], r["language"], r["metric"]) for r in rows if r["stage"] == "test"]
        assert len(keys) == len(set(keys))
    print(f"{executor}: drill {time.time() - started:.0f} s, {drill.attempt} runner starts")
