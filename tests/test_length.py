"""Batches of similar length: the lengths are read right, and evaluation order leaves predictions alone."""

import datasets
import pytest
import pytorch_lightning as pl
import torch
from conftest import shared

from lightning_xfer.data.datamodule import XferDataModule
from lightning_xfer.data.length import feature_lengths, length_grouped_sampler, longest_first
from lightning_xfer.encoder.spec import EncoderSpec
from lightning_xfer.errors import UserError
from lightning_xfer.model import XferModule
from lightning_xfer.tasks import TaskConfig, resolve_tasks


def test_lengths_of_flat_nested_and_paired_token_columns():
    flat = datasets.Dataset.from_dict({"input_ids": [[1, 2, 3], [1], [1, 2, 3, 4, 5]]})
    assert feature_lengths(flat).tolist() == [3, 1, 5]
    assert longest_first(flat) == [2, 0, 1]
    choices = datasets.Dataset.from_dict({"input_ids": [[[1, 2], [1, 2, 3, 4]], [[1], [1]], [[1, 2, 3]]]})
    assert feature_lengths(choices).tolist() == [4, 1, 3]
    pairs = datasets.Dataset.from_dict({"input_ids": [[1, 2], [1, 2, 3]], "target_input_ids": [[1, 2, 3, 4], [1]]})
    assert feature_lengths(pairs).tolist() == [4, 3]
    assert feature_lengths(flat.select([2, 1])).tolist() == [5, 1]  # a selection reads its own rows


def test_length_grouped_training_batches_pad_less_and_cover_every_feature():
    generator = torch.Generator().manual_seed(0)
    lengths = torch.randint(3, 120, (2000,), generator=generator).tolist()
    features = datasets.Dataset.from_dict({"input_ids": [[1] * n for n in lengths]})
    order = list(length_grouped_sampler(features, batch_size=16, seed=0))
    assert sorted(order) == list(range(2000))

    def padded(indices):
        batches = [indices[i : i + 16] for i in range(0, len(indices), 16)]
        return sum(16 * max(lengths[j] for j in b) for b in batches) / sum(lengths)

    shuffled = torch.randperm(2000, generator=generator).tolist()
    assert padded(order) < 1.1 < 1.5 < padded(shuffled)
    assert order == list(length_grouped_sampler(features, batch_size=16, seed=0))  # same seed, same order


def _test_predictions(tasks: list[TaskConfig], sort: bool) -> tuple[dict, list[int]]:
    torch.manual_seed(0)
    model = XferModule(EncoderSpec(name="tiny"), resolve_tasks(tasks))
    data = XferDataModule(tasks, encoder=EncoderSpec(name="tiny"), eval_batch_size=8, sort_eval_by_length=sort)
    widths = []

    class Widths(pl.Callback):
        def on_test_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0):
            widths.append(batch["input_ids"].shape[-1])

    trainer = pl.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
                         enable_checkpointing=False, callbacks=[Widths()])  # fmt: skip
    trainer.test(model, datamodule=data)
    return model.latest_predictions, widths


def _same_predictions_in_less_padding(tasks: list[TaskConfig]) -> None:
    in_order, widths_in_order = _test_predictions(tasks, sort=False)
    longest_first_, widths_sorted = _test_predictions(tasks, sort=True)
    assert in_order and in_order.keys() == longest_first_.keys()
    for key, predictions in in_order.items():
        assert predictions == longest_first_[key], key
    assert sum(widths_sorted) < sum(widths_in_order)


def test_longest_first_evaluation_predicts_exactly_what_file_order_does():
    """Classification and masked LM (whose evaluation masks must not depend on the batch)."""
    tasks = [TaskConfig("synthetic-topic", languages=["en", "xc"], max_eval_examples=48),
             TaskConfig("synthetic-mlm", languages=["en", "xb"], max_eval_examples=48)]  # fmt: skip
    _same_predictions_in_less_padding(tasks)


@pytest.mark.real_data
def test_longest_first_evaluation_on_real_tagging_and_qa():
    tasks = [TaskConfig("panx", data_dir=str(shared("panx_xtreme")), languages=["de"], max_eval_examples=40),
             TaskConfig("xquad", data_dir=str(shared("xquad")), languages=["el"], max_eval_examples=12)]  # fmt: skip
    _same_predictions_in_less_padding(tasks)


def test_group_by_length_trains_one_task_on_grouped_batches_and_refuses_several():
    tasks = [TaskConfig("synthetic-topic", max_train_examples=600)]
    data = XferDataModule(tasks, encoder=EncoderSpec(name="tiny"), batch_size=16, group_by_length=True)
    data.setup("fit")
    [(_, loader)] = data.train_dataloader().iterables.items()
    grouped = [batch["attention_mask"] for batch in loader]
    plain = XferDataModule(tasks, encoder=EncoderSpec(name="tiny"), batch_size=16)
    plain.setup("fit")
    sampled = plain.train_dataloader().iterables  # a resumable `TaskSampledLoader`: {task: batch} per step
    shuffled = [batch["synthetic-topic"]["attention_mask"] for batch in sampled]
    assert sum(m.sum() for m in grouped) == sum(m.sum() for m in shuffled)  # the same tokens, all of them
    assert sum(m.numel() for m in grouped) < sum(m.numel() for m in shuffled)  # in less padding
    several = XferDataModule([*tasks, TaskConfig("synthetic-mlm")], encoder=EncoderSpec(name="tiny"),
                             group_by_length=True)  # fmt: skip
    several.setup("fit")
    with pytest.raises(UserError, match=r"data\.group_by_length"):
        several.train_dataloader()
