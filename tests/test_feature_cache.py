"""Tokenised features are cached by what the tokenizer does, so a study's runs share them."""

import shutil

from lightning_xfer.cache import cache_dir
from lightning_xfer.data.datamodule import XferDataModule
from lightning_xfer.encoder.loading import resolve_encoder
from lightning_xfer.encoder.spec import EncoderSpec
from lightning_xfer.tasks import TaskConfig


def _written_by_setup(encoder: str, tasks: list[TaskConfig]) -> set[str]:
    """The feature files that setting up `encoder`'s DataModule added to the cache."""
    before = set(cache_dir("features").glob("synthetic-topic-test-xb-*.arrow"))
    XferDataModule(tasks, encoder=EncoderSpec(name=encoder)).setup("test")
    return {path.name for path in set(cache_dir("features").glob("synthetic-topic-test-xb-*.arrow")) - before}


def test_a_copied_tokenizer_reuses_the_features_and_another_tokenizer_does_not(tmp_path):
    """The target run after an intermediate run reads its tokenizer from the exported encoder
    folder, a copy of the base encoder's; it must find the features the first run cached."""
    tasks = [TaskConfig("synthetic-topic", languages=["xb"], max_eval_examples=37)]  # a key no other test makes
    assert len(_written_by_setup("tiny", tasks)) == 1
    exported = tmp_path / "exported-encoder"
    shutil.copytree(resolve_encoder("tiny"), exported)
    assert _written_by_setup(str(exported), tasks) == set()  # read from the cache, nothing new
    other = tmp_path / "other-encoder"
    shutil.copytree(resolve_encoder("tiny", preset_seed=1), other)  # a tokenizer trained with another seed
    assert len(_written_by_setup(str(other), tasks)) == 1
