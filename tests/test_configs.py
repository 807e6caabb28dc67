"""Every shipped config parses with the CLI, composed the way the README composes them."""

import io
from contextlib import redirect_stdout

import pytest
from conftest import PROJECT
from helpers import cli

TASK_CONFIGS = sorted((PROJECT / "configs" / "tasks").glob("*/*.yaml"))


def parses(*args: str) -> str:
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit) as exit_info:
        cli(*args, "--print_config")
    assert exit_info.value.code in (0, None)
    return out.getvalue()


@pytest.mark.parametrize("config", TASK_CONFIGS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_task_configs_parse_with_the_gpu_trainer(config):
    command = "test" if "lightning_xfer test" in config.read_text() else "fit"
    printed = parses(command, "--config", str(config), "--config", str(PROJECT / "configs/trainer/gpu.yaml"))
    assert f"name: {config.stem}" in printed and "precision: bf16-mixed" in printed


def test_there_is_a_config_for_every_target_and_intermediate_task_and_size():
    from lightning_xfer.tasks import catalogue

    names = {t.name for t in catalogue().values() if not t.name.startswith("synthetic") and t.name != "mlm"}
    for size in ("xlm-roberta-base", "xlm-roberta-large"):
        assert names <= {p.stem for p in (PROJECT / "configs" / "tasks" / size).glob("*.yaml")}


@pytest.mark.parametrize(
    "files",
    [
        ["configs/quickstart.yaml"],
        ["configs/encoders/tiny.yaml", "configs/shared_data/panx.yaml", "configs/trainer/cpu-smoke.yaml"],
        ["configs/encoders/multilingual-e5-small.yaml", "configs/shared_data/panx.yaml"],
        ["configs/encoders/xlm-roberta-large.yaml", "configs/shared_data/panx.yaml", "configs/trainer/gpu.yaml"],
    ],
)
def test_composed_configs_parse(files):
    parses("fit", *[part for f in files for part in ("--config", str(PROJECT / f))])


def test_real_mini_study_sequence_resolves(capsys):
    from lightning_xfer.sequence import sequence_command

    sequence_command([str(PROJECT / "configs/studies/real-mini.yaml"), "--dry-run", "--set", "data=/elsewhere"])
    printed = capsys.readouterr().out
    assert printed.count("== ") == 23 and "none-tatoeba-test" in printed
