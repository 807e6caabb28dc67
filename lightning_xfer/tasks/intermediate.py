"""English intermediate tasks of Phang et al. (2020), "English intermediate-task training improves
zero-shot cross-lingual transfer too", and the English training sets of the target tasks."""

from __future__ import annotations

from lightning_xfer.data.classification import Classification
from lightning_xfer.data.masked_lm import MaskedLM
from lightning_xfer.data.readers.dispatch import read_pair_file, read_qa_file
from lightning_xfer.data.readers.text_lines import read_text_lines
from lightning_xfer.data.span_qa import SpanQA
from lightning_xfer.languages import languages
from lightning_xfer.metrics.accuracy import accuracy
from lightning_xfer.metrics.masked_lm import masked_token_accuracy
from lightning_xfer.metrics.squad import squad_scores
from lightning_xfer.tasks import hub_rows, labels
from lightning_xfer.tasks.task import HubDataset, LocalFiles, Task

SQUAD = Task(
    name="squad",
    family=SpanQA(),
    description="SQuAD v1.1: extractive QA on English Wikipedia (trains XQuAD, MLQA, and LAReQA).",
    role="intermediate",
    metric=squad_scores,
    primary_metric="f1",
    domain="Wikipedia",
    local=LocalFiles({"train": "train-v1.1.json", "validation": "dev-v1.1.json"}, read_qa_file),
    hub=HubDataset("rajpurkar/squad", None, {"train": "train", "validation": "validation"}, hub_rows.squad),
    max_length=384,
)

MNLI = Task(
    name="mnli",
    family=Classification(),
    description="MultiNLI: 3-way NLI over ten genres of English (trains XNLI).",
    role="intermediate",
    metric=accuracy,
    primary_metric="accuracy",
    labels=labels.NLI,
    label_aliases=labels.NLI_ALIASES,
    domain="mixed genres",
    local=LocalFiles({"train": "train.tsv", "validation": "dev_matched.tsv"}, read_pair_file),
    hub=HubDataset(
        "nyu-mll/glue",
        "mnli",
        {"train": "train", "validation": "validation_matched"},
        hub_rows.glue_pair("premise", "hypothesis", labels.NLI),
    ),
)

MLM = Task(
    name="mlm",
    family=MaskedLM(),
    description="Masked language modelling on your own text (the continued-MLM baseline): `train.txt` "
    "with every language mixed, `test-{lang}.txt` per language, one sentence per line.",
    role="intermediate",
    metric=masked_token_accuracy,
    primary_metric="accuracy",
    languages=tuple(languages()),
    domain="your corpus",
    local=LocalFiles(
        {"train": "train.txt", "validation": "dev-{lang}.txt", "test": "test-{lang}.txt"}, read_text_lines
    ),
)

TASKS = (SQUAD, MNLI, MLM)
