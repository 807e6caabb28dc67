"""English intermediate tasks of Phang et al. (2020), "English intermediate-task training improves
zero-shot cross-lingual transfer too": ANLI, CCG, CommonsenseQA, Cosmos QA, HellaSwag, MNLI, QQP,
SQuAD, SST-2; plus SQuAD v2.0 and the continued-MLM baseline. Local layouts follow each dataset's
own release."""

from __future__ import annotations

from lightning_xfer.families.classification import Classification
from lightning_xfer.families.masked_lm import MaskedLM
from lightning_xfer.families.multiple_choice import MultipleChoice
from lightning_xfer.families.span_qa import SpanQA
from lightning_xfer.families.tagging import Tagging
from lightning_xfer.languages import benchmark_languages
from lightning_xfer.metrics.accuracy import accuracy
from lightning_xfer.metrics.masked_lm import masked_token_accuracy
from lightning_xfer.metrics.squad import squad_scores, squad_v2_scores
from lightning_xfer.metrics.token_accuracy import token_accuracy
from lightning_xfer.readers import english_tasks
from lightning_xfer.readers.dispatch import read_pair_file, read_qa_file, read_single_file
from lightning_xfer.readers.text_lines import read_text_lines
from lightning_xfer.tasks import hub_rows, labels
from lightning_xfer.tasks.task import HubDataset, LocalFiles, Task

_TRAIN_DEV = {"train": "train", "validation": "validation"}

SQUAD = Task(
    name="squad",
    family=SpanQA(),
    description="SQuAD v1.1: extractive QA on English Wikipedia (trains XQuAD, MLQA, and LAReQA).",
    role="intermediate",
    metric=squad_scores,
    primary_metric="f1",
    domain="Wikipedia",
    local=LocalFiles({"train": "train-v1.1.json", "validation": "dev-v1.1.json"}, read_qa_file),
    hub=HubDataset("rajpurkar/squad", None, _TRAIN_DEV, hub_rows.squad),
    max_length=384,
)

SQUAD2 = Task(
    name="squad2",
    family=SpanQA(allow_unanswerable=True),
    description="SQuAD v2.0: SQuAD v1.1 plus 50k unanswerable questions.",
    role="intermediate",
    metric=squad_v2_scores,
    primary_metric="f1",
    domain="Wikipedia",
    local=LocalFiles({"train": "train-v2.0.json", "validation": "dev-v2.0.json"}, read_qa_file),
    hub=HubDataset("rajpurkar/squad_v2", None, _TRAIN_DEV, hub_rows.squad),
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
    domain="mixed genres (fiction, government, telephone, travel, ...)",
    local=LocalFiles({"train": "train.tsv", "validation": "dev_matched.tsv"}, read_pair_file),
    hub=HubDataset("nyu-mll/glue", "mnli", {"train": "train", "validation": "validation_matched"},
                   hub_rows.glue_pair("premise", "hypothesis", labels.NLI)),
)  # fmt: skip

ANLI = Task(
    name="anli",
    family=Classification(),
    description="Adversarial NLI, rounds 1-3 together (human-and-model-in-the-loop NLI).",
    role="intermediate",
    metric=accuracy,
    primary_metric="accuracy",
    labels=labels.NLI,
    label_aliases=labels.NLI_ALIASES,
    domain="Wikipedia, news, fiction, ... (adversarial)",
    local=LocalFiles({"train": "R*/train.jsonl", "validation": "R*/dev.jsonl", "test": "R*/test.jsonl"},
                     english_tasks.read_anli),
    hub=HubDataset("facebook/anli", None,
                   {"train": "train_r1+train_r2+train_r3", "validation": "dev_r1+dev_r2+dev_r3",
                    "test": "test_r1+test_r2+test_r3"}, hub_rows.nli(labels.NLI)),
)  # fmt: skip

QQP = Task(
    name="qqp",
    family=Classification(),
    description="Quora Question Pairs: are two questions paraphrases? (GLUE).",
    role="intermediate",
    metric=accuracy,
    primary_metric="accuracy",
    labels=labels.BINARY,
    domain="community QA (Quora)",
    local=LocalFiles({"train": "train.tsv", "validation": "dev.tsv"}, read_pair_file),
    hub=HubDataset("nyu-mll/glue", "qqp", _TRAIN_DEV, hub_rows.glue_pair("question1", "question2", labels.BINARY)),
)

SST2 = Task(
    name="sst2",
    family=Classification(),
    description="Stanford Sentiment Treebank, binary sentiment of movie-review sentences (GLUE).",
    role="intermediate",
    metric=accuracy,
    primary_metric="accuracy",
    labels=labels.BINARY,
    domain="movie reviews",
    local=LocalFiles({"train": "train.tsv", "validation": "dev.tsv"}, read_single_file),
    hub=HubDataset("nyu-mll/glue", "sst2", _TRAIN_DEV, hub_rows.glue_pair("sentence", "", labels.BINARY)),
)

HELLASWAG = Task(
    name="hellaswag",
    family=MultipleChoice(),
    description="HellaSwag: pick the plausible continuation of a video or how-to context (4 choices).",
    role="intermediate",
    metric=accuracy,
    primary_metric="accuracy",
    domain="ActivityNet captions and WikiHow",
    local=LocalFiles({"train": "hellaswag_train.jsonl", "validation": "hellaswag_val.jsonl"},
                     english_tasks.read_hellaswag),
    hub=HubDataset("Rowan/hellaswag", None, _TRAIN_DEV, hub_rows.hellaswag),
)  # fmt: skip

COMMONSENSEQA = Task(
    name="commonsenseqa",
    family=MultipleChoice(),
    description="CommonsenseQA: five-way commonsense questions built from ConceptNet (random split).",
    role="intermediate",
    metric=accuracy,
    primary_metric="accuracy",
    domain="crowd-written questions",
    local=LocalFiles({"train": "train_rand_split.jsonl", "validation": "dev_rand_split.jsonl"},
                     english_tasks.read_commonsenseqa),
    hub=HubDataset("tau/commonsense_qa", None, _TRAIN_DEV, hub_rows.commonsenseqa),
)  # fmt: skip

COSMOSQA = Task(
    name="cosmosqa",
    family=MultipleChoice(),
    description="Cosmos QA: reading comprehension that needs commonsense about people's everyday narratives.",
    role="intermediate",
    metric=accuracy,
    primary_metric="accuracy",
    domain="personal narratives (blogs)",
    local=LocalFiles({"train": "train.csv", "validation": "valid.csv"}, english_tasks.read_cosmosqa),
    hub=HubDataset("allenai/cosmos_qa", None, _TRAIN_DEV, hub_rows.cosmosqa),
    max_length=256,
)

CCG = Task(
    name="ccg",
    family=Tagging(),
    description="CCGbank supertagging (LDC-licensed; local files in jiant's layout only).",
    role="intermediate",
    metric=token_accuracy,
    primary_metric="accuracy",
    domain="news (Wall Street Journal)",
    local=LocalFiles(
        {"train": "ccg_num.train", "validation": "ccg_num.dev", "test": "ccg_num.test"}, english_tasks.read_ccg
    ),
    labels_from_data=english_tasks.ccg_labels,
)

MLM = Task(
    name="mlm",
    family=MaskedLM(),
    description="Masked language modelling on your own text (the continued-MLM baseline): `train.txt` "
    "with every language mixed, `test-{lang}.txt` per language, one sentence per line.",
    role="intermediate",
    metric=masked_token_accuracy,
    primary_metric="accuracy",
    languages=tuple(benchmark_languages()),
    domain="your corpus",
    local=LocalFiles(
        {"train": "train.txt", "validation": "dev-{lang}.txt", "test": "test-{lang}.txt"}, read_text_lines
    ),
)

PHANG_ALL = ("anli", "ccg", "commonsenseqa", "cosmosqa", "hellaswag", "mnli", "qqp", "squad", "sst2")
"""The nine intermediate tasks of Phang et al. (2020), for multi-task intermediate training."""

TASKS = (SQUAD, SQUAD2, MNLI, ANLI, QQP, SST2, HELLASWAG, COMMONSENSEQA, COSMOSQA, CCG, MLM)
GROUPS = {"phang-all": PHANG_ALL}
