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


def test_span_qa_settings_key_the_features_and_the_answer_text_does_not():
    """A task's `qa:` settings live on its family, not in `FeatureSettings`: the family's fingerprint
    carries them into the cache key, so other windows build other features, while the answer text
    (decoding only) reuses them."""
    from conftest import shared

    from lightning_xfer.families.span_qa import SpanQASettings

    data_dir = str(shared("xquad"))

    def written(qa: SpanQASettings) -> set[str]:
        before = set(cache_dir("features").glob("xquad-test-de-*.arrow"))
        task = TaskConfig("xquad", data_dir=data_dir, languages=["de"], max_eval_examples=3, qa=qa)
        XferDataModule([task], encoder=EncoderSpec(name="tiny")).setup("test")
        return set(cache_dir("features").glob("xquad-test-de-*.arrow")) - before

    assert len(written(SpanQASettings(max_query_length=17))) == 1  # a key no other test makes
    assert written(SpanQASettings(max_query_length=17, answer_text="characters")) == set()
    assert len(written(SpanQASettings(max_query_length=17, windows="xtreme"))) == 1
