"""Every shipped config parses with the CLI, composed the way the README composes them: a task
config, an encoder config and a trainer config; and the composition gives each size its rate."""

import io
from contextlib import redirect_stdout

import pytest
import yaml
from conftest import PROJECT
from helpers import cli

TASK_CONFIGS = sorted((PROJECT / "configs" / "tasks").glob("*.yaml"))
ENCODERS = ("xlm-roberta-base", "xlm-roberta-large")


def resolved(*args: str) -> dict:
    """The config LightningCLI resolves for `args` (`--print_config`), as a dict."""
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit) as exit_info:
        cli(*args, "--print_config")
    assert exit_info.value.code in (0, None)
    return yaml.safe_load(out.getvalue())


def composed(task_config, encoder: str, trainer: str = "gpu") -> dict:
    command = "test" if "lightning_xfer test" in task_config.read_text() else "fit"
    files = [task_config, PROJECT / f"configs/encoders/{encoder}.yaml", PROJECT / f"configs/trainer/{trainer}.yaml"]
    return resolved(command, *[part for f in files for part in ("--config", str(f))])


@pytest.mark.parametrize("encoder", ENCODERS)
@pytest.mark.parametrize("config", TASK_CONFIGS, ids=lambda p: p.stem)
def test_task_configs_compose_with_an_encoder_and_the_gpu_trainer(config, encoder):
    printed = composed(config, encoder)
    assert printed["data"]["tasks"][0]["name"] == config.stem
    assert printed["model"]["encoder"]["name"] == encoder
    assert printed["trainer"]["precision"] == "bf16-mixed"
    own = yaml.safe_load(config.read_text())
    if "learning_rate" in own.get("model", {}):
        assert printed["model"]["learning_rate"] == own["model"]["learning_rate"]


def test_every_catalogue_task_has_one_config_for_every_size():
    from lightning_xfer.tasks import catalogue

    # Generated tasks have their configs with the study that uses them (configs/studies/embedded/).
    names = {t.name for t in catalogue().values() if not t.name.startswith(("synthetic", "world-")) and t.name != "mlm"}
    assert names <= {p.stem for p in TASK_CONFIGS}
    assert not list((PROJECT / "configs" / "tasks").glob("*/*.yaml")), "one task file serves every size"


@pytest.mark.parametrize(
    ("task", "base", "large"),
    [("xnli", 2e-5, 5e-6), ("squad", 3e-5, 1.5e-5), ("panx", 2e-5, 2e-5), ("hellaswag", 2e-5, 1e-5)],
)
def test_each_size_trains_at_the_papers_rate(task, base, large):
    """XTREME / Phang et al.'s per-size learning rates survive the merge of 50 files into 25."""
    from lightning_xfer.encoder.spec import EncoderSpec
    from lightning_xfer.model import XferModule

    for encoder, expected in (("xlm-roberta-base", base), ("xlm-roberta-large", large)):
        model = composed(PROJECT / f"configs/tasks/{task}.yaml", encoder)["model"]
        module = XferModule(  # the encoder is only loaded in configure_model: nothing is downloaded
            EncoderSpec(name=model["encoder"]["name"]),
            [],
            learning_rate=model["learning_rate"],
            learning_rate_by_encoder=model.get("learning_rate_by_encoder"),
        )
        assert module.peak_learning_rate() == pytest.approx(expected), (task, encoder)


@pytest.mark.parametrize(
    "files",
    [
        ["configs/quickstart.yaml"],
        ["configs/encoders/tiny.yaml", "configs/shared_data/panx.yaml", "configs/trainer/cpu-smoke.yaml"],
        ["configs/encoders/multilingual-e5-small.yaml", "configs/shared_data/panx.yaml"],
        ["configs/tasks/panx.yaml", "configs/encoders/xlm-roberta-large.yaml", "configs/shared_data/panx.yaml",
         "configs/trainer/gpu.yaml"],
    ],
)  # fmt: skip
def test_composed_configs_parse(files):
    printed = resolved("fit", *[part for f in files for part in ("--config", str(PROJECT / f))])
    parts = [yaml.safe_load((PROJECT / f).read_text()) or {} for f in files]
    expected = [p["data"]["tasks"][0]["name"] for p in parts if "tasks" in p.get("data", {})][-1]
    assert [t["name"] for t in printed["data"]["tasks"]] == [expected]


def test_the_run_resolves_its_tasks_and_encoder_once(tmp_path):
    """The DataModule gets the model's encoder spec whole (revision and all), and the model gets the
    very task objects the DataModule resolved."""
    from helpers import quickstart

    run = quickstart("fit", tmp_path, "--trainer.fast_dev_run=true", "--model.encoder.preset_seed=3")
    assert run.datamodule.encoder == run.model.encoder_spec and run.datamodule.encoder.preset_seed == 3
    assert run.model.run_tasks == run.datamodule.run_tasks
    assert all(m is d for m, d in zip(run.model.run_tasks, run.datamodule.run_tasks, strict=True))


def test_shipped_study_files_expand(tmp_path):
    """Every study in configs/studies expands into its runs (the real ones with their data paths)."""
    from lightning_xfer.study.graph import expand
    from lightning_xfer.study.spec import load_study

    counts = {}
    for path in sorted((PROJECT / "configs" / "studies").glob("*.yaml")):
        declared = yaml.safe_load(path.read_text()).get("variables") or {}  # `--set` takes only these
        given = {"out": str(tmp_path / path.stem), "data": "/data"}
        runs = expand(load_study(path, {name: value for name, value in given.items() if name in declared}))
        counts[path.stem] = len(runs)
        assert all(r.commands[0][0] in ("fit", "test") for r in runs)
    # real-mini: 3 intermediate runs + 4 conditions x 3 targets; phang2020: 11 + 12 x 9;
    # robustness: 4 encoders x 3 seeds x (4 + 5 x 10); size-ladder: 17 encoder entries x 3 seeds x
    # (3 + 4 x 10); embedded: 1 pre-training run + 5 seeds x (2 + 3 x 4); embedded-sizes: 3 sizes x (1 +
    # 3 seeds x (2 + 3 x 5));
    # embedded-truth: 1 + 3 seeds x (2 + 3 x 1); real-transfer: 3 seeds x (2 + 3 x 2).
    assert counts == {"real-mini": 3 + 4 * 3, "tiny": 10, "phang2020": 11 + 12 * 9, "robustness": 4 * 3 * (4 + 5 * 10),
                      "size-ladder": 17 * 3 * (3 + 4 * 10), "embedded": 1 + 5 * (2 + 3 * 4),
                      "embedded-sizes": 3 * (1 + 3 * (2 + 3 * 5)), "embedded-truth": 1 + 3 * (2 + 3 * 1),
                      "real-transfer": 3 * (2 + 3 * 2)}  # fmt: skip


def test_xtreme_qa_targets_use_xtremes_windows_and_retrieval_its_in_batch_negatives():
    """run_squad.py's windows for XQuAD, MLQA, TyDiQA; train_lareqa.sh's 4 and train_mewslix.sh's 8
    pairs per GPU (the in-batch negatives), with their gradient accumulation of 4."""
    for task in ("xquad", "mlqa", "tydiqa"):
        data = yaml.safe_load((PROJECT / f"configs/tasks/{task}.yaml").read_text())["data"]
        assert data["tasks"][0]["qa"]["windows"] == "xtreme"
    for task, per_gpu in (("lareqa", 4), ("mewslix", 8)):
        data = yaml.safe_load((PROJECT / f"configs/tasks/{task}.yaml").read_text())["data"]
        assert (data["micro_batch_size"], data["batch_size"]) == (per_gpu, 4 * per_gpu)
