"""The study: a grid expanded into runs, run end to end, resumed after a real SIGKILL, run through
submitit's local executor, and collected into one results table."""

import contextlib
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
from helpers import run_in_project
from safetensors.torch import load_file

from lightning_xfer.errors import UserError
from lightning_xfer.results_table import COLUMNS, read_table, write_table
from lightning_xfer.study.graph import expand, load_runs
from lightning_xfer.study.local import run_local
from lightning_xfer.study.records import status_of
from lightning_xfer.study.spec import load_study
from lightning_xfer.study.table import pivot, results_table

TINY = PROJECT / "configs" / "studies" / "tiny.yaml"


def tiny_study(out: Path, steps: int = 8, **more):
    return load_study(TINY, {"out": str(out), "steps": str(steps), **more})


def fit_attempts(run) -> list[dict]:
    path = run.directory / "attempts.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [a for a in map(json.loads, lines) if a["command"] == "fit"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """The tiny study (2 conditions x 2 targets x 2 seeds: 10 runs), run in this process."""
    out = tmp_path_factory.mktemp("study")
    spec = tiny_study(out)
    runs = expand(spec)
    return spec, runs, run_in_project(runs)


def test_the_grid_expands_into_its_runs_and_dependencies(tmp_path):
    runs = expand(tiny_study(tmp_path))
    ids = [r.id for r in runs]
    assert len(ids) == len(set(ids)) == 10  # per seed: 1 intermediate + (none, mlm) x 2 targets
    for run in runs:
        assert run.directory == tmp_path / run.id
        if run.intermediate != "none" and run.phase != "intermediate":
            (dependency,) = run.depends_on
            assert ids.index(dependency) < ids.index(run.id)
            assert f"--model.encoder.name={tmp_path / dependency / 'encoder'}" in run.commands[0]
        else:
            assert not run.depends_on and not any(a.startswith("--model.encoder.name=") for a in run.commands[0])
    assert [c[0] for c in runs[1].commands] == ["fit", "test"]
    # Identity: deterministic, and the hash notices a changed study.
    assert [r.config_hash for r in expand(tiny_study(tmp_path))] == [r.config_hash for r in runs]
    assert expand(tiny_study(tmp_path, steps=9))[0].config_hash != runs[0].config_hash


def test_the_study_runs_end_to_end_and_its_table_has_every_row(finished):
    spec, runs, outcome = finished
    assert set(outcome.values()) == {"done"}
    table = results_table(spec.study, runs)
    assert list(table.columns) == COLUMNS
    targets = [r for r in runs if r.phase == "target"]
    assert len(table) == len(targets) * 4  # every language of every target run, once
    for run in targets:
        rows = table[table["run"] == run.id]
        assert sorted(rows["language"]) == ["en", "xa", "xb", "xc"] and set(rows["stage"]) == {"test"}
        assert set(rows["intermediate"]) == {run.intermediate} and set(rows["seed"]) == {run.seed}
    summary = pivot(table)
    assert {"none", "synthetic-mlm", "synthetic-mlm - none"} <= set(summary.columns)
    topic = table[(table["target"] == "synthetic-topic") & (table["stage"] == "test")]
    expected = topic.groupby(["intermediate", "seed"])["value"].mean().groupby("intermediate").mean()
    assert summary.loc[("tiny", "synthetic-topic"), "none"] == pytest.approx(expected["none"], abs=0.01)


def test_the_target_starts_from_the_intermediate_runs_exported_encoder(finished):
    from lightning_xfer.checkpoints import encoder_state

    _, runs, _ = finished
    intermediate = next(r for r in runs if r.phase == "intermediate")
    exported = load_file(intermediate.directory / "encoder" / "model.safetensors")
    trained = encoder_state(intermediate.last_checkpoint)
    assert exported and all(torch.equal(exported[k], trained[k]) for k in exported)  # the final weights
    target = next(r for r in runs if r.depends_on == (intermediate.id,) and r.target == "synthetic-topic")
    from lightning_xfer.encoder.spec import EncoderSpec
    from lightning_xfer.model import XferModule
    from lightning_xfer.tasks import TaskConfig, resolve_tasks

    start = next(a.split("=", 1)[1] for a in target.commands[0] if a.startswith("--model.encoder.name="))
    module = XferModule(EncoderSpec(name=start), resolve_tasks([TaskConfig("synthetic-topic")]))
    module.configure_model()
    assert all(torch.equal(module.encoder.state_dict()[k], trained[k]) for k in exported)
    # Heads start fresh: the hand-off carries encoder weights only (the intermediate head was MLM's).
    assert not any("head" in k or "lm_" in k for k in exported) and list(module.heads) == ["synthetic-topic"]


def test_a_complete_study_trains_nothing_again_and_the_same_seed_gives_the_same_table(finished, tmp_path):
    spec, runs, _ = finished
    before = {r.id: len(fit_attempts(r)) for r in runs}
    assert set(before.values()) == {1}
    assert set(run_local(runs, PROJECT, in_process=True).values()) == {"done"}
    assert {r.id: len(fit_attempts(r)) for r in runs} == before
    # One run again, from scratch, elsewhere: the same rows.
    again = [r for r in expand(tiny_study(tmp_path)) if r.id == "target.tiny.none.synthetic-topic.s1"]
    cwd = os.getcwd()
    os.chdir(PROJECT)
    try:
        run_local(again, PROJECT, in_process=True)
    finally:
        os.chdir(cwd)
    first = results_table(spec.study, [r for r in runs if r.id == again[0].id]).drop(columns="run")
    second = results_table(spec.study, again).drop(columns="run")
    pd.testing.assert_frame_equal(first.reset_index(drop=True), second.reset_index(drop=True))


def test_the_results_table_round_trips_through_csv_parquet_and_json_lines(finished, tmp_path):
    spec, runs, _ = finished
    table = results_table(spec.study, runs)
    for suffix in ("csv", "parquet", "jsonl"):
        back = read_table(write_table(table, tmp_path / f"results.{suffix}"))
        pd.testing.assert_frame_equal(back[COLUMNS], table, check_dtype=False)


def test_a_study_with_unknown_names_fails_before_training_and_lists_every_problem(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "study: bad\nout: " + str(tmp_path / "out") + "\nencoders: [{name: x, configs: [configs/encoders/nope.yaml]}]\n"
        "intermediate: [none, squadd, sst2+mlmm]\ntargets: [panx, xnlii]\nseeds: [zero]\n"
    )
    os.chdir(PROJECT)
    with pytest.raises(UserError) as error:
        load_runs(bad)
    message = str(error.value)  # one round: the file's types and the graph's names together
    for problem in ("`seeds:` expected a whole number, got 'zero'", "'squadd'", "'mlmm'", "'xnlii'",
                    "configs/encoders/nope.yaml does not exist"):  # fmt: skip
        assert problem in message, problem
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").glob("*/attempts.jsonl"))


def test_a_killed_run_resumes_at_the_step_it_reached(tmp_path):
    """A real SIGKILL of `study run` mid-training; the next `study run` resumes from last.ckpt."""
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "lightning_xfer", "study", "run", str(TINY), "--set", f"out={out}",
               "--set", "steps=150", "--only", "target.tiny.none.synthetic-topic.s0"]  # fmt: skip
    (run,) = [r for r in expand(tiny_study(out, steps=150)) if r.id == "target.tiny.none.synthetic-topic.s0"]
    process = subprocess.Popen(command, cwd=PROJECT, start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.time() + 300
    reached = 0
    while time.time() < deadline and reached < 30:
        time.sleep(1)
        if run.last_checkpoint.exists():
            try:
                reached = torch.load(run.last_checkpoint, map_location="cpu", weights_only=True)["global_step"]
            except Exception:  # caught mid-write: read it at the next tick
                reached = 0
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert reached >= 30, "the run never saved a checkpoint"
    # the trainer runs in its own process group; its runner's death sends it SIGTERM: it saves and stops
    deadline = time.time() + 120
    while time.time() < deadline and status_of(run).state == "running":
        time.sleep(0.5)
    reached = torch.load(run.last_checkpoint, map_location="cpu", weights_only=True)["global_step"]
    assert status_of(run).state == "interrupted"
    assert subprocess.run(command, cwd=PROJECT, capture_output=True).returncode == 0
    assert status_of(run).state == "done"
    attempts = fit_attempts(run)
    assert [a["resumed_from"] for a in attempts] == [None, str(run.last_checkpoint)]
    log = (run.directory / "log.txt").read_text()
    assert "Restored all states from the checkpoint" in log or "Restoring states from the checkpoint" in log
    final = torch.load(run.last_checkpoint, map_location="cpu", weights_only=True)["global_step"]
    assert reached >= 30 and final == 150


def test_submitit_local_executor_runs_a_two_run_graph_in_dependency_order(tmp_path):
    pytest.importorskip("submitit", reason="needs submitit (pip extra `slurm`)")
    study = tmp_path / "two.yaml"
    study.write_text(f"extends: {TINY}\nstudy: two\nout: ${{out}}\nintermediate: [synthetic-mlm]\n"
                     "targets: [synthetic-topic]\nseeds: [0]\n")  # fmt: skip
    command = [sys.executable, "-m", "lightning_xfer", "study", "run", str(study), "--set", f"out={tmp_path / 'o'}",
               "--set", "steps=4", "--executor", "local-submitit"]  # fmt: skip
    finished = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr[-2000:]
    runs = expand(load_study(study, {"out": str(tmp_path / "o"), "steps": "4"}))
    assert [r.phase for r in runs] == ["intermediate", "target"]
    records = [json.loads((r.directory / "complete.json").read_text()) for r in runs]
    started = json.loads((runs[1].directory / "attempts.jsonl").read_text().splitlines()[0])["time"]
    assert records[0]["time"] <= started  # the target started after the intermediate run completed
    assert (tmp_path / "o" / "submitit").is_dir()


def test_a_study_with_a_wandb_project_labels_every_run(tmp_path):
    """group = study, job_type = phase, name = run id, and the per-language table callback with the
    run's encoder / condition / target / seed: in the command line LightningCLI parses."""
    import io
    from contextlib import redirect_stdout

    import yaml
    from helpers import cli

    study = tmp_path / "wandb.yaml"
    study.write_text(TINY.read_text() + "wandb_project: xfer-tests\n")
    runs = expand(load_study(study, {"out": str(tmp_path / "o")}))
    target = next(r for r in runs if r.depends_on)
    printed = io.StringIO()
    cwd = os.getcwd()
    os.chdir(PROJECT)
    try:
        with redirect_stdout(printed), pytest.raises(SystemExit):
            cli(*target.commands[0], "--print_config")
    finally:
        os.chdir(cwd)
    config = yaml.safe_load(printed.getvalue())
    logger = config["trainer"]["logger"]["init_args"]
    assert (logger["group"], logger["job_type"], logger["name"]) == ("tiny", "target", target.id)
    table = next(c["init_args"] for c in config["trainer"]["callbacks"] if c["class_path"].endswith("WandbScoreTable"))
    assert (table["condition"], table["target"], table["seed"]) == (target.intermediate, target.target, target.seed)


def test_only_a_dependent_run_starts_when_its_dependency_is_complete_on_disk(finished):
    """`study run --only <target>`: the intermediate run it needs is outside the selection but done."""
    _, runs, _ = finished
    target = next(r for r in runs if r.depends_on and r.target == "synthetic-topic")
    (target.directory / "complete.json").rename(target.directory / "complete.before.json")
    cwd = os.getcwd()
    os.chdir(PROJECT)
    try:
        others = [r for r in runs if r is not target]
        assert run_local([target], PROJECT, in_process=True, others=others) == {target.id: "done"}
    finally:
        os.chdir(cwd)
    (dependency,) = [r for r in runs if r.id == target.depends_on[0]]
    (dependency.directory / "complete.json").rename(dependency.directory / "complete.moved.json")
    (target.directory / "complete.json").rename(target.directory / "complete.again.json")
    attempts = len(fit_attempts(target))
    try:  # a dependency that is not complete: the selected run waits, and nothing trains
        assert run_local([target], PROJECT, in_process=True, others=[dependency]) == {target.id: "blocked"}
        assert len(fit_attempts(target)) == attempts
    finally:
        (dependency.directory / "complete.moved.json").rename(dependency.directory / "complete.json")
        (target.directory / "complete.again.json").rename(target.directory / "complete.json")


class _Job:
    def __init__(self, job_id: str):
        self.job_id = job_id

    def exception(self):
        return None


class _Executor:
    """submitit's AutoExecutor as far as `run_submitit` uses it, recording what would be submitted:
    the jobs of one `batch()` form a job array, `<array id>_<index>`, as submitit's are on SLURM."""

    def __init__(self, folder, cluster):
        self.parameters: dict = {}
        self.submitted: list[tuple[dict, object]] = []
        self.arrays: dict[str, list[str]] = {}  # array id -> the run ids of its jobs
        self._array: str | None = None

    def update_parameters(self, **parameters):
        self.parameters.update(parameters)

    @contextlib.contextmanager
    def batch(self):
        self._array = str(100 + len(self.arrays))
        self.arrays[self._array] = []
        yield
        self._array = None

    def submit(self, job):
        self.submitted.append((dict(self.parameters), job))
        if self._array is None:
            return _Job(str(900 + len(self.submitted)))
        self.arrays[self._array].append(job.run.id)
        return _Job(f"{self._array}_{len(self.arrays[self._array]) - 1}")


def test_slurm_submission_shapes_each_encoder_and_skips_what_is_running_or_failed(tmp_path, monkeypatch):
    """Per-encoder nodes and GPUs reach the job and the command line; the target phase waits for the
    intermediate phase (`afterany`) and each target job checks its own dependency; a running run is
    not submitted twice and a failed one only with --retry-failed."""
    submitit = pytest.importorskip("submitit", reason="needs submitit (pip extra `slurm`)")
    from lightning_xfer.study import records
    from lightning_xfer.study.slurm import run_submitit

    study = tmp_path / "shapes.yaml"
    study.write_text(TINY.read_text().replace(
        "  - name: tiny\n    configs: [configs/encoders/tiny.yaml]\n",
        "  - {name: tiny, configs: [configs/encoders/tiny.yaml], slurm: {gpus_per_node: 1}}\n"
        "  - {name: big, configs: [configs/encoders/tiny.yaml], slurm: {nodes: 2, gpus_per_node: 8}}\n",
    ).replace("seeds: [0, 1]", "seeds: [0]"))  # fmt: skip
    spec = load_study(study, {"out": str(tmp_path / "o")})
    runs = expand(spec)
    executors: list[_Executor] = []
    monkeypatch.setattr(submitit, "AutoExecutor", lambda **kw: executors.append(_Executor(**kw)) or executors[-1])
    busy = next(r for r in runs if r.id == "target.tiny.none.synthetic-topic.s0")
    broken = next(r for r in runs if r.id == "target.big.none.synthetic-topic.s0")
    busy.directory.mkdir(parents=True)
    records.mark_running(busy, os.getpid())  # this process is alive: the run counts as running
    broken.directory.mkdir(parents=True)
    records.mark_failed(broken, "fit", 1, "boom", time.time())

    run_submitit(spec, runs, PROJECT, "slurm")
    submitted = {job.run.id: (parameters, job) for parameters, job in executors[-1].submitted}
    assert busy.id not in submitted and broken.id not in submitted
    assert len(submitted) == len(runs) - 2
    intermediate = submitted["intermediate.big.synthetic-mlm.s0"]
    target = submitted["target.big.synthetic-mlm.synthetic-topic.s0"]
    assert intermediate[0]["nodes"] == 2 and intermediate[0]["gpus_per_node"] == 8
    assert intermediate[1].extra_args == ("--trainer.devices=8", "--trainer.num_nodes=2")
    small = submitted["intermediate.tiny.synthetic-mlm.s0"][1]
    assert small.extra_args == ("--trainer.devices=1", "--trainer.num_nodes=1")
    assert "dependency" not in intermediate[0]["slurm_additional_parameters"]
    assert target[0]["slurm_additional_parameters"]["dependency"].startswith("afterany:")
    assert [d.id for d in target[1].dependencies] == ["intermediate.big.synthetic-mlm.s0"]
    with pytest.raises(RuntimeError, match=r"intermediate\.big\.synthetic-mlm\.s0 did not complete"):
        target[1]()  # its dependency never ran: the job stops before training
    run_submitit(spec, runs, PROJECT, "slurm", retry_failed=True)
    assert broken.id in {job.run.id for _, job in executors[-1].submitted}


def test_a_second_submission_leaves_the_targets_of_a_running_intermediate_run_to_the_first(
    tmp_path, monkeypatch, capsys
):
    """A second `study run` while an intermediate run trains in the first one's job: neither that
    run nor its targets are submitted (their jobs would only find it unfinished and stop)."""
    submitit = pytest.importorskip("submitit", reason="needs submitit (pip extra `slurm`)")
    from lightning_xfer.study import records
    from lightning_xfer.study.slurm import run_submitit

    spec = load_study(TINY, {"out": str(tmp_path / "o")})
    runs = expand(spec)
    executors: list[_Executor] = []
    monkeypatch.setattr(submitit, "AutoExecutor", lambda **kw: executors.append(_Executor(**kw)) or executors[-1])
    running = next(r for r in runs if r.id == "intermediate.tiny.synthetic-mlm.s0")
    running.directory.mkdir(parents=True)
    records.mark_running(running, os.getpid())
    run_submitit(spec, runs, PROJECT, "slurm")
    submitted = {job.run.id for _, job in executors[-1].submitted}
    waiting = {r.id for r in runs if running.id in r.depends_on}
    assert waiting and not waiting & submitted and running.id not in submitted
    assert submitted == {r.id for r in runs} - waiting - {running.id}
    printed = capsys.readouterr().out
    assert all(f"{w}: waits for {running.id} (running), not submitted" in printed for w in waiting)


def test_slurm_arrays_stay_under_the_array_limit_and_wait_only_for_their_own_encoders_runs(tmp_path, monkeypatch):
    """SLURM refuses an array above MaxArraySize (1001 by default; the size ladder's 1-GPU targets were
    one array of 1,080): arrays are cut at `slurm.max_array_size`. A phase's array holds one encoder's
    runs and waits (`afterany`) only for the arrays holding their own dependencies, so XLM-R base's
    targets do not wait for BLOOM's intermediate runs."""
    submitit = pytest.importorskip("submitit", reason="needs submitit (pip extra `slurm`)")
    from lightning_xfer.study.slurm import run_submitit
    from lightning_xfer.study.spec import SlurmSettings

    assert SlurmSettings().max_array_size == 1000
    study = tmp_path / "arrays.yaml"
    study.write_text(TINY.read_text().replace(
        "  - name: tiny\n    configs: [configs/encoders/tiny.yaml]\n",
        "  - {name: small, configs: [configs/encoders/tiny.yaml]}\n"
        "  - {name: slow, configs: [configs/encoders/tiny.yaml]}\n",
    ).replace("seeds: [0, 1]", "seeds: [0, 1, 2]") + "slurm: {max_array_size: 4}\n")  # fmt: skip
    spec = load_study(study, {"out": str(tmp_path / "o")})
    runs = expand(spec)
    executors: list[_Executor] = []
    monkeypatch.setattr(submitit, "AutoExecutor", lambda **kw: executors.append(_Executor(**kw)) or executors[-1])
    run_submitit(spec, runs, PROJECT, "slurm")
    executor = executors[-1]
    assert sorted(r for members in executor.arrays.values() for r in members) == sorted(r.id for r in runs)
    assert max(len(members) for members in executor.arrays.values()) == 4
    array_of = {run_id: array for array, members in executor.arrays.items() for run_id in members}
    encoder_of = {r.id: r.encoder for r in runs}
    for parameters, job in executor.submitted:
        dependency = parameters["slurm_additional_parameters"].get("dependency")
        if not job.dependencies:
            assert dependency is None, job.run.id
            continue
        assert dependency.startswith("afterany:")
        waits_for = set(dependency.removeprefix("afterany:").split(":"))
        assert {array_of[d.id] for d in job.dependencies} <= waits_for
        assert {encoder_of[r] for a in waits_for for r in executor.arrays[a]} == {job.run.encoder}, job.run.id


def test_show_status_and_results_commands_print_what_a_user_reads(finished, capsys):
    """`study show` prints each run's commands, `status` each run's state and the counts, `results`
    the table's size and the papers' pivot with the gain over `none`."""
    from lightning_xfer.study.command import study_command

    spec, runs, _ = finished
    common = [str(TINY), "--set", f"out={spec.out}", "--set", "steps=8"]
    study_command(["show", *common])
    shown = capsys.readouterr().out
    assert shown.count("== ") == len(runs) and "python -m lightning_xfer fit --config" in shown
    study_command(["status", *common])
    status = capsys.readouterr().out
    assert f"done: {len(runs)}" in status and all(run.id in status for run in runs)
    study_command(["results", *common, "--format", "csv"])
    printed = capsys.readouterr().out
    assert f"runs of {len(runs)}" in printed and "synthetic-mlm - none" in printed and "synthetic-topic" in printed
    assert (Path(spec.out) / "results.csv").is_file()


def test_a_study_that_extends_another_replaces_the_keys_it_sets_and_merges_variables(tmp_path, monkeypatch):
    """embedded-truth.yaml is embedded.yaml with its own name, out, seeds and one target: the runs it
    shares with embedded.yaml are the same runs, and `--set` reaches a variable only the parent declares."""
    monkeypatch.chdir(PROJECT)
    studies = PROJECT / "configs" / "studies"
    parent = load_study(studies / "embedded.yaml", {"out": str(tmp_path), "steps": "7"})
    child = load_study(studies / "embedded-truth.yaml", {"out": str(tmp_path), "steps": "7"})
    assert (child.study, child.extends, child.seeds, list(child.targets)) == ("embedded-truth", "embedded.yaml",
                                                                              [0, 1, 2], ["world-kind"])  # fmt: skip
    assert child.variables["pretrain_steps"] == parent.variables["pretrain_steps"]
    assert (child.encoders, child.intermediate, child.defaults, child.base) == (
        parent.encoders, parent.intermediate, parent.defaults, parent.base)  # fmt: skip
    assert child.steps == parent.steps == {"pretrain": 2000, "intermediate": 7, "target": 7}
    shared = {run.id: run.commands for run in expand(parent)}
    runs = expand(child)
    assert runs and all(shared[run.id] == run.commands for run in runs)


def test_a_quoted_variable_stays_text_and_an_unquoted_one_takes_its_yaml_value(tmp_path, monkeypatch):
    """As if written into the file's text: `"${lang}"` with `lang=no` is the string `no` (YAML would
    read a bare `no` as false), `${steps}` with `steps=7` the number 7, and an encoder's SLURM
    settings are kept as read (`"8"` GPUs is 8)."""
    monkeypatch.chdir(PROJECT)
    study = tmp_path / "study.yaml"
    study.write_text(
        "study: q\nout: ${out}\nvariables: {out: o, lang: en, steps: 1}\n"
        "encoders: [{name: tiny, configs: [configs/encoders/tiny.yaml], slurm: {gpus_per_node: '8'}}]\n"
        'targets: {synthetic-topic: {task: {languages: ["${lang}", "${lang}-x"]}}}\nsteps:\n  target: ${steps}\n'
    )
    spec = load_study(study, {"lang": "no", "steps": "7", "out": str(tmp_path / "out")})
    assert spec.targets["synthetic-topic"].task["languages"] == ["no", "no-x"]
    assert spec.steps == {"target": 7} and spec.encoders[0].slurm == {"gpus_per_node": 8}
