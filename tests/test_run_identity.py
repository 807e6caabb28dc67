"""A run is a directory: `--ckpt_path best|last` means a checkpoint of one run, `fit --ckpt_path`
continues that run, and mistakes in a config stop a run before it trains, in one line."""

import os
import shutil
import subprocess
import sys
import textwrap

import pytest
import torch
from conftest import PROJECT
from helpers import quickstart, results

from lightning_xfer.checkpoints import resolve_checkpoint
from lightning_xfer.data.datamodule import XferDataModule
from lightning_xfer.encoder.spec import EncoderSpec
from lightning_xfer.errors import UserError
from lightning_xfer.families.span_qa import SpanQASettings
from lightning_xfer.tasks.config import TaskConfig

SHORT = (
    "--trainer.max_epochs=1", "--trainer.limit_train_batches=4", "--trainer.limit_val_batches=2",
    "--trainer.log_every_n_steps=1",
)  # fmt: skip


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("identity")
    quickstart("fit", root, *SHORT)
    return root, root / "lightning_logs" / "version_0"


# -- which run -------------------------------------------------------------------------------------
def test_best_and_last_resolve_inside_the_only_run(trained):
    root, run = trained
    tested = quickstart("test", root, "--ckpt_path=best", "--trainer.limit_test_batches=1")
    assert tested.trainer.ckpt_path.startswith(str(run / "checkpoints"))
    assert resolve_checkpoint("last", root) == str(run / "checkpoints" / "last.ckpt")


def test_several_runs_under_one_root_are_an_error_not_the_newest(trained, tmp_path):
    _, run = trained
    shared_root = tmp_path / "shared"
    for version in ("version_0", "version_1"):
        shutil.copytree(run / "checkpoints", shared_root / "lightning_logs" / version / "checkpoints")
    with pytest.raises(UserError) as error:
        quickstart("test", shared_root, "--ckpt_path=best")
    message = str(error.value)
    assert "2 runs" in message and "version_0" in message and "version_1" in message
    assert "--ckpt_path <run>/checkpoints" in message and "\n" not in message
    # A logger with an explicit version names the run, whichever is newer.
    named = quickstart(
        "test", shared_root, "--ckpt_path=last", "--trainer.limit_test_batches=1",
        "--trainer.logger=TensorBoardLogger", f"--trainer.logger.init_args.save_dir={shared_root}",
        "--trainer.logger.init_args.version=0", f"--results.path={tmp_path / 'results.jsonl'}",
    )  # fmt: skip
    assert named.trainer.ckpt_path == str(shared_root / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt")


def test_best_is_looked_up_in_the_runs_own_folder_after_a_move(tmp_path):
    checkpoints = tmp_path / "moved" / "version_3" / "checkpoints"
    checkpoints.mkdir(parents=True)
    recorded = {"best_model_path": "/gone/version_3/checkpoints/epoch=1.ckpt"}
    torch.save({"callbacks": {"ModelCheckpoint{'monitor': 'val/score'}": recorded}}, checkpoints / "last.ckpt")
    torch.save({}, checkpoints / "epoch=1.ckpt")
    assert resolve_checkpoint("best", tmp_path) == str(checkpoints / "epoch=1.ckpt")


# -- resume ------------------------------------------------------------------------------------------
def test_fit_with_ckpt_path_last_continues_the_run_in_its_directory(tmp_path):
    first = quickstart("fit", tmp_path, *SHORT, "--export.enabled=false")
    assert first.trainer.global_step == 4
    resumed = quickstart("fit", tmp_path, *SHORT[1:], "--trainer.max_epochs=2", "--ckpt_path=last")
    assert resumed.trainer.global_step == 8  # continued, not restarted at 0
    run = tmp_path / "lightning_logs" / "version_0"
    assert resumed.trainer.log_dir == str(run)
    assert [p.name for p in (tmp_path / "lightning_logs").iterdir()] == ["version_0"]
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 8
    assert sorted(r["global_step"] for r in results(run / "results.jsonl")) == [4, 8]


# -- what a run says ---------------------------------------------------------------------------------
def test_test_without_ckpt_path_says_it_scores_untrained_heads(trained, capsys):
    root, _ = trained
    quickstart("test", root, "--trainer.limit_test_batches=1", "--trainer.logger=false")
    err = capsys.readouterr().err
    assert "test without --ckpt_path scores the pretrained encoder 'tiny' with untrained task heads" in err


def test_results_rows_carry_the_configs_seed_not_the_environments(trained, tmp_path, monkeypatch):
    root, _ = trained
    monkeypatch.setenv("PL_GLOBAL_SEED", "123")  # left behind by an earlier run in the same process
    for seed, expected in (("false", None), ("7", 7)):
        path = tmp_path / f"seed-{seed}.jsonl"
        quickstart(
            "validate", root, "--ckpt_path=last", f"--seed_everything={seed}", f"--results.path={path}",
            "--trainer.logger=false", "--trainer.limit_val_batches=1",
        )  # fmt: skip
        assert {r["seed"] for r in results(path)} == {expected}


def test_evaluation_output_has_no_tips_or_deprecations(trained):
    """What a newcomer reads after `make quickstart`: our table and where results went, no noise
    (Lightning's advertisements and deprecation warnings come in `fit` and `test` alike)."""
    root, _ = trained
    command = [
        sys.executable, "-m", "lightning_xfer", "test", "--config", str(PROJECT / "configs" / "quickstart.yaml"),
        f"--trainer.default_root_dir={root}", "--ckpt_path=best", "--trainer.limit_test_batches=1",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(PROJECT)})
    assert done.returncode == 0, done.stderr
    printed = done.stdout + done.stderr
    for noise in ("Tip", "litlogger", "deprecated", "Warning", "warn(", "dirpath has changed"):
        assert noise not in printed
    assert "test / synthetic-topic" in printed and "results written to" in printed


# -- checked before training -------------------------------------------------------------------------
# Output paths that cannot be written, a missing --ckpt_path, a doc_stride that does not fit: rows of
# tests/test_bad_input.py.


def test_the_doc_stride_rule_is_the_tokenizers(tiny_tokenizer):
    """The check's bound is exactly where the tokenizer starts failing on a longest question."""
    from lightning_xfer.cli import check_doc_stride

    squad = TaskConfig("squad", max_length=48, qa=SpanQASettings(max_query_length=8))
    module = XferDataModule([squad], EncoderSpec(name="tiny"))
    module.tokenizer = tiny_tokenizer
    bound = 48 - 8 - tiny_tokenizer.num_special_tokens_to_add(pair=True)
    words = "one two three four five six seven eight nine ten eleven twelve"
    offsets = tiny_tokenizer(words, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    question = words[: offsets[7][1]]  # cut to max_query_length tokens, as the QA features do
    assert len(tiny_tokenizer(question, add_special_tokens=False)["input_ids"]) == 8
    context = " ".join(["word"] * 200)
    for stride in (bound - 1, bound):
        module.doc_stride = stride

        def encode(stride=stride):
            return tiny_tokenizer(
                question, context, truncation="only_second", max_length=48, stride=stride,
                return_overflowing_tokens=True,
            )  # fmt: skip

        if stride < bound:
            check_doc_stride(module)
            encode()
        else:
            with pytest.raises(UserError):
                check_doc_stride(module)
            with pytest.raises(BaseException, match="stride"):  # a Rust panic in `tokenizers`
                encode()


def test_a_user_error_is_one_line_and_exit_code_2(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    command = [
        sys.executable, "-m", "lightning_xfer", "fit", "--config", str(PROJECT / "configs" / "quickstart.yaml"),
        f"--trainer.default_root_dir={blocker / 'runs'}",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("lightning_xfer: error: trainer.default_root_dir: ")
    assert "Traceback" not in done.stderr


# -- the CI run ----------------------------------------------------------------------------------------
def test_ci_turns_missing_shared_data_and_e5_skips_into_failures(tmp_path):
    """`.ci/run` sets LIGHTNING_XFER_REQUIRE_ALL=1: a clean clone without ../shared must not pass green."""
    tests = tmp_path / "checkout" / "tests"
    tests.mkdir(parents=True)
    shutil.copy(PROJECT / "tests" / "conftest.py", tests)  # two levels down: no ../shared beside it
    (tests / "test_needs.py").write_text(
        textwrap.dedent("""
        import pytest
        from conftest import shared

        def test_real_data():
            shared("xnli")

        def test_e5():
            pytest.importorskip("a_module_that_is_not_installed", reason="needs the `e5` extra: pip install")

        def test_other_skip():
            pytest.skip("not a missing requirement")
        """)
    )
    command = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(tests)]
    env = {k: v for k, v in os.environ.items() if k != "LIGHTNING_XFER_REQUIRE_ALL"}
    developer = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tests)
    assert developer.returncode == 0 and "3 skipped" in developer.stdout
    assert "needs the real data" in developer.stdout  # -rs: the reasons are shown
    ci_env = {**env, "LIGHTNING_XFER_REQUIRE_ALL": "1"}
    ci = subprocess.run(command, capture_output=True, text=True, env=ci_env, cwd=tests)
    assert ci.returncode == 1
    assert "2 failed" in ci.stdout and "1 skipped" in ci.stdout and "LIGHTNING_XFER_REQUIRE_ALL" in ci.stdout
