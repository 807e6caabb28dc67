"""configs/sweeps/*.yaml: every command line a W&B agent would run parses, and carries the swept values.

There is no W&B server here, so no real `wandb agent`: the tests render each cell's command line
the way the agent does and hand it to our CLI (and, for the quick start, run it).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys

import pytest
import yaml
from conftest import PROJECT
from helpers import cli, finished_run_file, wandb_history_keys, wandb_records

from lightning_xfer.encoder.loading import base_encoder_name

SWEEPS = sorted((PROJECT / "configs" / "sweeps").glob("*.yaml"))
PREFIX = ["${env}", "${interpreter}", "-m", "lightning_xfer", "fit"]


def load(path):
    # `wandb sweep` reads the file with yaml.safe_load (wandb/sdk/launch/sweeps/utils.py
    # load_sweep_config), whose YAML 1.1 floats need a dot: `1e-5` would be the string "1e-5".
    return yaml.safe_load(path.read_text())


def cells(sweep: dict) -> list[dict]:
    """Every grid cell; for random and bayes, every combination of each parameter's values or
    min/max endpoints (what the sampler can reach at the edges)."""
    choices = {}
    for name, spec in sweep["parameters"].items():
        if "value" in spec:
            choices[name] = [spec["value"]]
        elif "values" in spec:
            choices[name] = spec["values"]
        else:
            choices[name] = [spec["min"], spec["max"]]
    return [dict(zip(choices, combination, strict=True)) for combination in itertools.product(*choices.values())]


def agent_command(sweep: dict, values: dict) -> list[str]:
    """The argv a W&B agent (wandb 0.31) starts for one run of this sweep.

    Per wandb/wandb_agent.py `Agent._command_run`: a chunk spelled exactly `${name}` becomes a list
    (`${env}` -> ["/usr/bin/env"] off Windows, `${interpreter}` -> ["python"], the first `python`
    on PATH), any other chunk stays `str(chunk)`; per wandb/sdk/launch/sweeps/utils.py
    `create_sweep_command_args`, `${args}` is `--{name}={value}` with Python's str(value): a
    float 1e-05 becomes "1e-05", a null "None", in the order of the run's parameters.
    """
    macros = {
        "env": ["/usr/bin/env"],
        "interpreter": ["python"],
        "args": [f"--{name}={value}" for name, value in values.items()],
    }
    argv = []
    for chunk in map(str, sweep["command"]):
        argv += macros[chunk[2:-1]] if chunk.startswith("${") and chunk.endswith("}") else [chunk]
    return argv


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def lookup(config: dict, dotted: str):
    for part in dotted.split("."):
        config = config[part]
    return config


@pytest.mark.parametrize("path", SWEEPS, ids=[p.stem for p in SWEEPS])
def test_sweep_file_is_a_valid_sweep_of_our_cli(path):
    sweep = load(path)
    assert sweep["method"] in ("grid", "random", "bayes")
    assert sweep["metric"] == {"name": "val/score", "goal": "maximize"}
    assert sweep["command"][: len(PREFIX)] == PREFIX and sweep["command"][-1] == "${args}"
    # W&B's summary (what the sweep's table shows) of `val/score` is its best, not its last: the
    # callback defines it from the checkpoint's monitor and mode.
    assert "--trainer.callbacks+=lightning_xfer.wandb_tables.WandbScoreTable" in sweep["command"]
    for name, spec in sweep["parameters"].items():
        if sweep["method"] == "grid":
            assert "values" in spec or "value" in spec, f"{path.name}: grid needs values for {name}"
        for bound in ("min", "max"):
            if bound in spec:
                assert isinstance(spec[bound], (int, float)), f"{path.name}: {name}.{bound} is not a number"
        for value in spec.get("values", []):
            assert not (isinstance(value, str) and is_number(value)), (
                f"{path.name}: {name} value {value!r} is a string; write floats with a dot (1.0e-5)"
            )


def test_rendering_matches_wandbs_own_argument_builder():
    """Our ${args} rendering equals the agent's own helper's, so a W&B upgrade that changes it fails here."""
    from wandb.sdk.launch.sweeps.utils import create_sweep_command_args

    sweep = load(PROJECT / "configs" / "sweeps" / "squad-xlm-roberta-large.yaml")
    for values in cells(sweep):
        rendered = create_sweep_command_args({"args": {name: {"value": v} for name, v in values.items()}})["args"]
        assert agent_command(sweep, values)[-len(values) :] == rendered


@pytest.mark.parametrize(
    "path, values",
    [(path, values) for path in SWEEPS for values in cells(load(path))],
    ids=[f"{p.stem}-{i}" for p in SWEEPS for i in range(len(cells(load(p))))],
)
def test_every_cell_parses_with_the_swept_values(path, values, monkeypatch, capsys):
    monkeypatch.chdir(PROJECT)  # the agent runs from the repository root: config paths are relative
    argv = agent_command(load(path), values)
    assert argv[:4] == ["/usr/bin/env", "python", "-m", "lightning_xfer"]
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        cli(*argv[4:], "--print_config")
    printed = capsys.readouterr()
    assert exit_.value.code in (0, None), printed.err
    config = yaml.safe_load(printed.out)
    for name, value in values.items():
        assert math.isclose(lookup(config, name), value), f"{name}: {lookup(config, name)} != {value}"
    if "model.learning_rate" in values:
        # The task files pin the papers' per-size rates, which win over `model.learning_rate`.
        by_encoder = config["model"]["learning_rate_by_encoder"] or {}
        encoder = base_encoder_name(config["model"]["encoder"]["name"])
        assert encoder not in by_encoder, f"learning_rate_by_encoder[{encoder}] overrides the swept rate"


def test_gradient_clip_zero_trains_exactly_like_none(tmp_path):
    """The sweeps write `trainer.gradient_clip_val: 0.0` for Lightning's None (no clipping)."""
    import torch

    def trained_weights(*extra):
        root = tmp_path / str(len(list(tmp_path.iterdir())))
        run = cli(
            "fit",
            "--config",
            str(PROJECT / "configs" / "quickstart.yaml"),
            f"--trainer.default_root_dir={root}",
            "--trainer.enable_progress_bar=false",
            "--trainer.max_epochs=1",
            "--trainer.limit_train_batches=3",
            "--trainer.limit_val_batches=1",
            "--trainer.log_every_n_steps=1",
            "--export.enabled=false",
            *extra,
        )
        return run.model.state_dict()

    unclipped = trained_weights()
    zero = trained_weights("--trainer.gradient_clip_val=0.0")
    clipped = trained_weights("--trainer.gradient_clip_val=0.001")
    assert all(torch.equal(unclipped[key], zero[key]) for key in unclipped)
    assert not all(torch.equal(unclipped[key], clipped[key]) for key in unclipped)  # clipping acts at all


def test_quickstart_sweep_cell_runs_end_to_end_offline(tmp_path):
    """One cell of configs/sweeps/quickstart.yaml, run as its rendered command line (not through
    `wandb agent`, which needs a server), with the venv's Python for `python`, W&B offline, and one
    short epoch appended (later flags win) to keep the test short."""
    sweep = load(PROJECT / "configs" / "sweeps" / "quickstart.yaml")
    values = cells(sweep)[0]
    argv = [*agent_command(sweep, values), "--trainer.max_epochs=1", "--trainer.limit_train_batches=8"]
    argv[1] = sys.executable
    (tmp_path / "configs").symlink_to(PROJECT / "configs")  # run in tmp_path: runs/ lands there
    # Without WANDB_SERVICE: an earlier in-process W&B test exported its service's address, and a
    # child that inherits it logs through that service (CI once found no run file after 120 s).
    env = {key: value for key, value in os.environ.items() if key != "WANDB_SERVICE"} | {"WANDB_MODE": "offline"}
    done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    run_file = finished_run_file(next(tmp_path.glob("runs/sweeps/quickstart/wandb/offline-run-*")))
    keys = wandb_history_keys(run_file)
    assert {"val/score"} | {f"val/synthetic-topic/accuracy/{language}" for language in ("en", "xc")} <= keys
    summaries = [json.loads(u.value_json) for r in wandb_records(run_file) if r.WhichOneof("record_type") == "summary"
                 for u in r.summary.update if (u.key or "/".join(u.nested_key)) == "val/score"]  # fmt: skip
    assert set(summaries[-1]) == {"max"}  # the best validation score, not the last
    config = yaml.safe_load(next(tmp_path.glob("runs/sweeps/quickstart/config.yaml")).read_text())
    assert config["model"]["learning_rate"] == values["model.learning_rate"]
    assert config["trainer"]["gradient_clip_val"] == values["trainer.gradient_clip_val"]


def test_a_none_rendered_by_the_agent_reaches_the_config_as_null(monkeypatch, capsys):
    """The agent writes a null as `--key=None` (Python's str); the CLI reads it as null, also over a
    value a config file set."""
    monkeypatch.chdir(PROJECT)
    with pytest.raises(SystemExit):
        cli("fit", "--config", "configs/tasks/squad.yaml", "--config", "configs/encoders/xlm-roberta-large.yaml",
            "--trainer.gradient_clip_val=None", "--model.learning_rate_by_encoder=None", "--print_config")  # fmt: skip
    config = yaml.safe_load(capsys.readouterr().out)
    assert config["trainer"]["gradient_clip_val"] is None and config["model"]["learning_rate_by_encoder"] is None
