"""Generated tasks that need no download: the quick start and the offline tests."""

from __future__ import annotations

from lightning_xfer import synthetic
from lightning_xfer.families.classification import Classification
from lightning_xfer.families.masked_lm import MaskedLM
from lightning_xfer.metrics.accuracy import accuracy
from lightning_xfer.metrics.masked_lm import masked_token_accuracy
from lightning_xfer.readers.dispatch import read_single_file
from lightning_xfer.readers.text_lines import read_text_lines
from lightning_xfer.tasks.task import LocalFiles, Task

SYNTHETIC_TOPIC = Task(
    name="synthetic-topic",
    family=Classification(),
    description="Generated 4-way topic classification; English train, zero-shot test in three derived "
    "languages with 75%, 40% and 0% word overlap (the last in Cyrillic).",
    role="target",
    metric=accuracy,
    primary_metric="accuracy",
    languages=("en", *(lang.code for lang in synthetic.LANGUAGES)),
    labels=synthetic.TOPICS,
    domain="generated",
    local=LocalFiles(
        {"train": "train-{lang}.tsv", "validation": "dev-{lang}.tsv", "test": "test-{lang}.tsv"},
        read_single_file,
    ),
    generator=synthetic.write_topic_task,
)

SYNTHETIC_MLM = Task(
    name="synthetic-mlm",
    family=MaskedLM(),
    description="Masked language modelling on generated text in all four synthetic languages, mixed.",
    role="intermediate",
    metric=masked_token_accuracy,
    primary_metric="accuracy",
    languages=SYNTHETIC_TOPIC.languages,
    domain="generated",
    local=LocalFiles({"train": "train.txt", "test": "test-{lang}.txt"}, read_text_lines),
    generator=synthetic.write_mlm_corpus,
)

TASKS = (SYNTHETIC_TOPIC, SYNTHETIC_MLM)
