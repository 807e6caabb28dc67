"""A study survives interruption: real `study run` processes get real signals mid-fit (SIGTERM,
SIGINT in-process, SIGKILL of the runner alone, SIGUSR2 to the trainer), a second runner starts
beside the first, and the resumed study's table equals an uninterrupted one's to the last digit."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import PROJECT
from helpers import wait_for_step

from lightning_xfer.errors import UserError
from lightning_xfer.results import ResultsWriter
from lightning_xfer.results_table import refuse_duplicates
from lightning_xfer.study.graph import expand
from lightning_xfer.study.records import read_json, status_of
from lightning_xfer.study.spec import load_study
from lightning_xfer.study.table import results_table

TINY = PROJECT / "configs" / "studies" / "tiny.yaml"
RUN = "target.tiny.none.synthetic-topic.s0"
STEPS = 150


def _command(out: Path, *more: str) -> list[str]:
    return [sys.executable, "-m", "lightning_xfer", "study", "run", str(TINY), "--set", f"out={out}",
            "--set", f"steps={STEPS}", "--only", RUN, *more]  # fmt: skip


def _run(out: Path):
    (run,) = [r for r in expand(load_study(TINY, {"out": str(out), "steps": str(STEPS)})) if r.id == RUN]
    return run


def _table(out: Path) -> pd.DataFrame:
    table = results_table("tiny", [_run(out)])
    return table.drop(columns=["study"]).sort_values(["stage", "task", "language", "metric"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("uninterrupted")
    finished = subprocess.run(_command(out), cwd=PROJECT, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr[-2000:]
    return _table(out)


def _start_and_reach(tmp_path: Path, *more: str, quiet: bool = True, step: int = 20):
    """A `study run` in its own session, once its run has passed `step`: (out, run, process)."""
    out, run = tmp_path / "o", _run(tmp_path / "o")
    output = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL} if quiet else \
        {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT, "text": True}  # fmt: skip
    process = subprocess.Popen(_command(out, *more), cwd=PROJECT, start_new_session=True, **output)
    wait_for_step(run, step)
    return out, run, process


def _resume_and_compare(out: Path, uninterrupted: pd.DataFrame) -> None:
    again = subprocess.run(_command(out), cwd=PROJECT, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr[-2000:]
    assert status_of(_run(out)).state == "done"
    table = _table(out)
    assert len(table) == len(uninterrupted)  # no duplicate rows
    pd.testing.assert_frame_equal(table, uninterrupted, check_exact=True)


def test_sigterm_mid_fit_saves_records_interrupted_and_resumes_to_the_uninterrupted_table(tmp_path, uninterrupted):
    out, run, runner = _start_and_reach(tmp_path, quiet=False)
    os.kill(runner.pid, signal.SIGTERM)  # the runner alone, as `scancel` or a shutdown would
    printed, _ = runner.communicate(timeout=120)
    assert runner.returncode != 0 and "run `study run` again to resume" in printed
    status = status_of(run)
    record = read_json(run.directory / "interrupted.json")
    assert status.state == "interrupted" and record["reason"].startswith("SIGTERM"), printed[-2000:]
    assert not (run.directory / "complete.json").exists() and (run.directory / "checkpoints" / "last.ckpt").exists()
    assert 20 <= record["step"] < STEPS
    _resume_and_compare(out, uninterrupted)
    attempts = [json.loads(line) for line in (run.directory / "attempts.jsonl").read_text().splitlines()]
    assert [a["command"] for a in attempts] == ["fit", "fit", "test"] and attempts[1]["resumed_from"]


@pytest.mark.slow
def test_the_first_ctrl_c_stops_an_in_process_study_cleanly_and_it_resumes(tmp_path, uninterrupted):
    out, run, runner = _start_and_reach(tmp_path, "--in-process", quiet=False)
    os.killpg(runner.pid, signal.SIGINT)  # Ctrl-C in a terminal: the whole foreground group
    printed, _ = runner.communicate(timeout=120)  # once: no second Ctrl-C needed
    assert runner.returncode != 0 and "terminate called" not in printed
    assert status_of(run).state == "interrupted", printed[-2000:]
    _resume_and_compare(out, uninterrupted)


@pytest.mark.slow
def test_a_runner_killed_hard_takes_its_trainer_with_it_and_the_run_resumes(tmp_path, uninterrupted):
    out, run, runner = _start_and_reach(tmp_path)
    trainer = read_json(run.directory / "running.json")["pid"]
    os.kill(runner.pid, signal.SIGKILL)  # the runner alone: its trainer must not live on, orphaned
    runner.wait()
    deadline = time.time() + 60
    while time.time() < deadline and Path(f"/proc/{trainer}").exists():
        time.sleep(0.2)
    assert not Path(f"/proc/{trainer}").exists(), "the trainer outlived its runner"
    assert status_of(run).state == "interrupted"
    _resume_and_compare(out, uninterrupted)


@pytest.mark.slow
def test_sigusr2_to_the_trainer_saves_and_a_second_runner_leaves_a_running_run_alone(tmp_path, uninterrupted):
    out, run, first = _start_and_reach(tmp_path)
    trainer = read_json(run.directory / "running.json")["pid"]
    os.kill(trainer, signal.SIGSTOP)  # held mid-fit while the second looks: a fast machine would finish first
    try:
        second = subprocess.run(_command(out), cwd=PROJECT, capture_output=True, text=True, timeout=300)
        assert second.returncode != 0 and "already running" in second.stdout, second.stdout[-2000:]
        assert status_of(run).state == "running" and "heartbeat" in status_of(run).detail
        os.kill(trainer, signal.SIGUSR2)  # SLURM's warning, to the trainer
    finally:
        os.kill(trainer, signal.SIGCONT)
    first.wait(timeout=120)
    assert status_of(run).state == "interrupted"
    assert read_json(run.directory / "interrupted.json")["reason"] == "SIGTERM or SIGUSR2"
    _resume_and_compare(out, uninterrupted)


def test_an_interrupted_run_whose_study_changed_is_moved_aside_not_resumed(tmp_path):
    run = _run(tmp_path / "o")
    run.directory.mkdir(parents=True)
    (run.directory / "interrupted.json").write_text(json.dumps({"reason": "SIGTERM", "config_hash": "older"}))
    assert status_of(run).state == "stale"
    (run.directory / "interrupted.json").write_text(json.dumps({"reason": "SIGTERM", "config_hash": run.config_hash}))
    assert status_of(run).state == "interrupted"


def test_a_run_on_another_host_without_a_heartbeat_is_lost_and_resumes(tmp_path):
    run = _run(tmp_path / "o")
    run.directory.mkdir(parents=True)
    running = {"host": "node-that-died", "pid": 1, "since": time.time() - 3600, "config_hash": run.config_hash}
    (run.directory / "running.json").write_text(json.dumps(running))
    (run.directory / "heartbeat.json").write_text(json.dumps({"time": time.time() - 3000, "step": 7}))
    status = status_of(run)
    assert status.state == "lost" and "step 7" in status.detail
    (run.directory / "heartbeat.json").write_text(json.dumps({"time": time.time(), "step": 9}))
    assert status_of(run).state == "running"  # its host still beats: another node works on it


def test_a_test_run_again_replaces_its_rows_and_a_table_with_duplicates_is_refused(tmp_path):
    from lightning_xfer.evaluation import Score

    class Module:
        def __init__(self, value: float):
            self.latest_scores = [Score("test", "xnli", "de", "accuracy", value, 10)]
            self.encoder_spec = type("Spec", (), {"name": "tiny"})()

    class Trainer:
        is_global_zero, current_epoch, global_step, ckpt_path, datamodule = True, 0, 5, None, None

    writer = ResultsWriter(path=str(tmp_path / "results.jsonl"), run_name="r")
    writer.write(Trainer(), Module(50.0))
    writer.write(Trainer(), Module(60.0))  # the same test again, after an interruption
    rows = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [r["value"] for r in rows] == [60.0]
    table = pd.DataFrame({"run": ["r", "r"], "stage": "test", "task": "xnli", "language": "de", "metric": "accuracy",
                          "value": [50.0, 60.0], "step": 5})  # fmt: skip
    with pytest.raises(UserError, match="2 rows repeat a key"):
        refuse_duplicates(table, "results.csv")
    refuse_duplicates(table.assign(stage="val", step=[5, 10]), "results.csv")  # two validations: fine


def test_each_task_of_a_multi_task_job_logs_to_its_own_file(tmp_path, monkeypatch):
    from lightning_xfer.study.execute import log_name

    assert log_name() == "log.txt"
    monkeypatch.setenv("SLURM_PROCID", "1")
    assert log_name() == "log.task1.txt"


SAVING_CHILD = """
import signal, sys, time
def save(*_):  # a trainer saving on SIGTERM, printing more than a pipe holds on its way out
    sys.stdout.write("x" * 200_000 + "\\n" + "saved".upper() + "\\n"); sys.stdout.flush(); sys.exit(0)
signal.signal(signal.SIGTERM, save)
print("ready".upper(), flush=True)  # upper case: the copy of this script in the log holds lower case only
time.sleep(120)
"""


def test_a_job_warned_by_slurm_tells_its_command_to_save_and_waits_for_it_before_the_requeue(tmp_path):
    submitit = pytest.importorskip("submitit")
    from lightning_xfer.study.execute import _call
    from lightning_xfer.study.slurm import RunJob

    run = _run(tmp_path / "o")
    run.directory.mkdir(parents=True)
    job, requeued = RunJob(run, PROJECT), []

    def warn_when_ready() -> None:  # SLURM's SIGUSR2, once the command runs
        log = run.directory / "log.txt"
        while not log.exists() or "READY" not in log.read_text():
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGUSR2)

    def warning(*_) -> None:  # submitit's handler: in the main thread, which is waiting in `_call`
        started = time.time()
        delayed = job.checkpoint()
        requeued.append((delayed, time.time() - started, "SAVED" in (run.directory / "log.txt").read_text()))

    previous = signal.signal(signal.SIGUSR2, warning)
    threading.Thread(target=warn_when_ready, daemon=True).start()
    try:
        returncode, last_line = _call([sys.executable, "-c", SAVING_CHILD], PROJECT, dict(os.environ), run, False)
    finally:
        signal.signal(signal.SIGUSR2, previous)
    ((delayed, waited, saved_first),) = requeued
    assert isinstance(delayed, submitit.helpers.DelayedSubmission) and delayed.function.run is run
    assert saved_first and waited < 30  # told to save, and it had saved when the job was requeued
    assert returncode == 0 and last_line == "SAVED"


def test_a_test_of_a_checkpoint_records_the_step_its_weights_were_trained_to(tmp_path):
    """`test --ckpt_path` restores the weights but not the loops: Lightning's `global_step` reads 0."""
    from types import SimpleNamespace

    from lightning_xfer.evaluation import Score

    module = SimpleNamespace(latest_scores=[Score("test", "xnli", "de", "accuracy", 50.0, 10)],
                             encoder_spec=SimpleNamespace(name="tiny"))  # fmt: skip
    trainer = SimpleNamespace(is_global_zero=True, current_epoch=0, global_step=0, ckpt_path="final.ckpt",
                              datamodule=None, state=SimpleNamespace(fn="test"))  # fmt: skip
    writer = ResultsWriter(path=str(tmp_path / "results.jsonl"), run_name="r")
    writer.on_load_checkpoint(trainer, module, {"global_step": 100})
    writer.write(trainer, module)
    assert json.loads((tmp_path / "results.jsonl").read_text())["global_step"] == 100


def test_a_target_is_tested_on_its_final_weights_whatever_checkpoint_every_says(tmp_path):
    # 25 steps with saves every 10: `test` once scored last.ckpt, the weights of step 20
    import torch
    from helpers import run_in_project

    spec = load_study(TINY, {"out": str(tmp_path / "o"), "steps": "25"})
    (run,) = [r for r in expand(spec) if r.id == RUN]
    assert run_in_project([run]) == {RUN: "done"}
    assert torch.load(run.last_checkpoint, map_location="cpu", weights_only=True)["global_step"] == 20
    table = results_table("tiny", [run])
    tested = table[table["stage"] == "test"]
    assert len(tested) and (tested["step"] == 25).all(), tested[["task", "language", "metric", "step"]]
