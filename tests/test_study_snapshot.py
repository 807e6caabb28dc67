"""Every study in `configs/studies/` runs what it ran when `tests/data/study_snapshot.json` was
recorded: the same runs, each with the same effective configuration (`study_snapshot.py`), so
configs can be moved, layered and deduplicated without changing a study by accident. A change
that is meant is recorded again with `python tests/study_snapshot.py --write`, in the same commit."""

import json

from conftest import PROJECT
from study_snapshot import RECORD, differences, effective, snapshots


def test_every_study_runs_the_configuration_it_was_recorded_with(monkeypatch):
    monkeypatch.chdir(PROJECT)
    changed = differences(json.loads(RECORD.read_text()), snapshots())
    assert not changed, "\n".join(changed[:20]) + f"\n({len(changed)} in all; see tests/study_snapshot.py)"


def test_the_fingerprint_sees_a_value_not_where_it_is_set(tmp_path):
    """Files merge as jsonargparse merges them (mappings by key, lists replaced), then the arguments;
    moving a setting from a file into an argument leaves the configuration as it was."""
    base, task = tmp_path / "base.yaml", tmp_path / "task.yaml"
    base.write_text("trainer: {max_steps: 10, callbacks: [a]}\nmodel: {learning_rate: 0.1}\n")
    task.write_text("model: {learning_rate: 0.2, warmup_ratio: 0.1}\n")
    both = effective(("fit", "--config", str(base), "--config", str(task), "--trainer.max_steps=20"), str(tmp_path))
    moved = ("fit", "--config", str(base), "--trainer.max_steps=20", "--model.learning_rate=0.2",
             "--model.warmup_ratio=0.1")  # fmt: skip
    assert both == effective(moved, str(tmp_path))
    assert both["config"] == {"trainer": {"max_steps": 20, "callbacks": ["a"]},
                              "model": {"learning_rate": 0.2, "warmup_ratio": 0.1}}  # fmt: skip
    assert effective(("fit", "--config", str(base), "--trainer.max_steps=30"), str(tmp_path)) != both
    added = ("fit", "--trainer.callbacks+=x.Y", f"--trainer.callbacks.dirpath={tmp_path}/o")
    callbacks = effective(added, str(tmp_path))
    assert callbacks["config"]["trainer"]["callbacks"] == [{"class_path": "x.Y", "init_args": {"dirpath": "{out}/o"}}]


def test_a_run_hash_sees_what_the_run_trains_with_not_how_its_files_say_it(tmp_path, monkeypatch):
    """A comment edited, or a setting moved from the task's file into the study's `args`, leaves a
    finished run finished; a changed value makes it stale."""
    from lightning_xfer.study.graph import expand
    from lightning_xfer.study.spec import load_study

    monkeypatch.chdir(PROJECT)
    task = "data:\n  tasks: [{name: synthetic-topic}]\n  batch_size: 32\nmodel:\n  learning_rate: 1.0e-3\n"

    def hashes(task_text: str, args: str = "") -> dict[str, str]:
        (tmp_path / "topic.yaml").write_text(task_text)
        study = tmp_path / "study.yaml"
        study.write_text(f"study: s\nout: {tmp_path / 'out'}\nencoders: [{{name: tiny, configs: "
                         f"[configs/encoders/tiny.yaml]}}]\ntargets: {{synthetic-topic: {tmp_path / 'topic.yaml'}}}\n"
                         f"args: [--trainer.accelerator=cpu{args}]\n")  # fmt: skip
        return {run.id: run.config_hash for run in expand(load_study(study))}

    before = hashes(task)
    assert hashes("# a comment a user added\n" + task.replace("\n", "  # and here\n", 3)) == before
    moved = task.replace("model:\n  learning_rate: 1.0e-3\n", "")
    assert hashes(moved, ", --model.learning_rate=0.001") == before
    assert hashes(moved, ", --model.learning_rate=0.002") != before
