"""A checkpoint's encoder weights, wherever they are: a Lightning `.ckpt` file, a
torch.distributed.checkpoint folder (FSDP's sharded state dict), a DeepSpeed ZeRO folder."""

import sys
import types
import warnings
from types import SimpleNamespace

import pytest
import torch
import torch.distributed.checkpoint as dcp

from lightning_xfer.checkpoints import encoder_state
from lightning_xfer.encoder.loading import load_encoder
from lightning_xfer.encoder.spec import EncoderSpec
from lightning_xfer.errors import UserError
from lightning_xfer.export import ExportEncoder, export_encoder
from lightning_xfer.model import XferModule
from lightning_xfer.tasks import resolve_tasks
from lightning_xfer.tasks.config import TaskConfig


def tiny_module(**kwargs) -> XferModule:
    module = XferModule(EncoderSpec(name="tiny"), resolve_tasks([TaskConfig("synthetic-topic")]), **kwargs)
    module.configure_model()
    return module


@pytest.fixture(scope="module")
def trained():
    """A module whose encoder differs from the preset's (as after training)."""
    module = tiny_module()
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.add_(torch.randn_like(parameter))
    return module


@pytest.fixture(scope="module")
def sharded(trained, tmp_path_factory):
    """The module saved as Lightning's FSDP strategy saves a `sharded` checkpoint, in one process."""
    directory = tmp_path_factory.mktemp("sharded") / "epoch=0-step=1.ckpt"
    state = {"model": trained.state_dict(), "optimizer_0": {"state": {"0": {"step": torch.tensor(1.0)}}}}
    with warnings.catch_warnings():  # "assuming the intent is to save in a single process": it is
        warnings.filterwarnings("ignore", message="torch.distributed is disabled")
        dcp.save(state, checkpoint_id=directory, no_dist=True)
    return directory


def assert_same_encoder(state: dict[str, torch.Tensor], module: XferModule) -> None:
    expected = module.encoder.state_dict()
    assert state.keys() == expected.keys()
    assert all(torch.equal(state[key], expected[key]) for key in expected)


def test_a_lightning_checkpoint_file(trained, tmp_path):
    torch.save({"state_dict": trained.state_dict(), "hyper_parameters": dict(trained.hparams)}, tmp_path / "a.ckpt")
    assert_same_encoder(encoder_state(tmp_path / "a.ckpt"), trained)


class NotWeights:
    """Anything a pickle could run on load."""


def test_a_checkpoint_holding_objects_is_refused(trained, tmp_path):
    torch.save({"state_dict": trained.state_dict(), "extra": NotWeights()}, tmp_path / "a.ckpt")
    with pytest.raises(UserError, match=r"^model.init_encoder_from: .*a\.ckpt holds objects .*weights_only=True"):
        encoder_state(tmp_path / "a.ckpt", "model.init_encoder_from")


def test_a_torch_distributed_checkpoint_folder(trained, sharded):
    assert_same_encoder(encoder_state(sharded), trained)
    # The intermediate -> target hand-off reads it the same way.
    assert_same_encoder(tiny_module(init_encoder_from=str(sharded)).encoder.state_dict(), trained)


def test_export_from_a_sharded_checkpoint(trained, sharded, tmp_path, tiny_tokenizer):
    fresh = tiny_module()
    export_encoder(fresh, tmp_path / "encoder", tiny_tokenizer, checkpoint=str(sharded))
    assert_same_encoder(load_encoder(EncoderSpec(name=str(tmp_path / "encoder"))).state_dict(), trained)


def test_export_under_a_sharded_strategy_reads_the_saved_weights(trained, sharded, tmp_path, tiny_tokenizer):
    """Each process holds only a shard of the final weights, so the export reads the last checkpoint."""

    class FSDPStrategy:  # stands in for Lightning's, which needs a process group
        pass

    callback = SimpleNamespace(
        monitor=None, best_model_path="", last_model_path=str(sharded), dirpath=str(tmp_path / "run" / "checkpoints")
    )
    trainer = SimpleNamespace(
        is_global_zero=True,
        interrupted=False,
        checkpoint_callback=callback,
        strategy=FSDPStrategy(),
        datamodule=SimpleNamespace(tokenizer=tiny_tokenizer),
    )
    ExportEncoder(weights="final").on_fit_end(trainer, tiny_module())
    assert_same_encoder(load_encoder(EncoderSpec(name=str(tmp_path / "run" / "encoder"))).state_dict(), trained)


def test_a_deepspeed_folder_is_consolidated_by_deepspeed(trained, tmp_path, monkeypatch):
    (tmp_path / "latest").write_text("checkpoint")
    calls = []

    def get_fp32_state_dict_from_zero_checkpoint(directory, exclude_frozen_parameters=False):
        assert not exclude_frozen_parameters  # a full fine-tune's export reads every weight
        calls.append(directory)
        return {f"_forward_module.{key}": value for key, value in trained.state_dict().items()}

    zero_to_fp32 = types.ModuleType("deepspeed.utils.zero_to_fp32")
    zero_to_fp32.get_fp32_state_dict_from_zero_checkpoint = get_fp32_state_dict_from_zero_checkpoint
    for name, module in (("deepspeed", types.ModuleType("deepspeed")), ("deepspeed.utils", types.ModuleType("u"))):
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setitem(sys.modules, "deepspeed.utils.zero_to_fp32", zero_to_fp32)
    assert_same_encoder(encoder_state(tmp_path), trained)
    assert calls == [str(tmp_path)]


def test_a_deepspeed_folder_without_deepspeed_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "deepspeed.utils.zero_to_fp32", None)  # an import of it now fails
    (tmp_path / "latest").write_text("checkpoint")
    with pytest.raises(UserError, match=r"DeepSpeed checkpoint; reading it needs DeepSpeed \(pip install"):
        encoder_state(tmp_path)


def test_a_folder_that_is_no_checkpoint_is_named(tmp_path):
    with pytest.raises(UserError, match="is a directory but not a sharded checkpoint"):
        encoder_state(tmp_path, "model.init_encoder_from")
