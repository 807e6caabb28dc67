"""XTREME-R's new classification task, XCOPA, and the English tasks that train it (SIQA, then COPA)."""

from __future__ import annotations

from lightning_xfer.families.multiple_choice import MultipleChoice
from lightning_xfer.metrics.accuracy import accuracy
from lightning_xfer.readers.copa import read_copa, read_socialiqa
from lightning_xfer.submission.formats import ChoiceJsonl
from lightning_xfer.tasks.task import HubDataset, LocalFiles, Task

XCOPA_LANGUAGES = ("et", "ht", "id", "it", "qu", "sw", "ta", "th", "tr", "vi", "zh")


def _copa_row(row: dict, language: str) -> dict:
    from lightning_xfer.readers.copa import COPA_QUESTIONS

    return {
        "id": f"{language}-{row['idx']}", "context": row["premise"], "question": COPA_QUESTIONS[row["question"]],
        "choices": [row["choice1"], row["choice2"]], "label": int(row["label"]),
    }  # fmt: skip


COPA = Task(
    name="copa",
    family=MultipleChoice(),
    description="COPA (SuperGLUE copy): English causal commonsense, 400 training questions; trains XCOPA.",
    role="intermediate",
    metric=accuracy,
    primary_metric="accuracy",
    domain="everyday causal events",
    local=LocalFiles({"train": "train.jsonl", "validation": "val.jsonl"}, read_copa),
    hub=HubDataset("aps/super_glue", "copa", {"train": "train", "validation": "validation"}, _copa_row),
)


def _siqa_row(row: dict, language: str) -> dict:
    return {
        "id": None, "context": row["context"], "question": row["question"],
        "choices": [row["answerA"], row["answerB"], row["answerC"]], "label": int(row["label"]) - 1,
    }  # fmt: skip


SIQA = Task(
    name="siqa",
    family=MultipleChoice(),
    description="Social IQa: commonsense about people's motives and reactions (3 choices); XCOPA's first stage.",
    role="intermediate",
    metric=accuracy,
    primary_metric="accuracy",
    domain="crowd-written social situations",
    local=LocalFiles({"train": "train.jsonl", "validation": "dev.jsonl"}, read_socialiqa),
    hub=HubDataset("allenai/social_i_qa", None, {"train": "train", "validation": "validation"}, _siqa_row),
)

XCOPA = Task(
    name="xcopa",
    family=MultipleChoice(),
    description="XCOPA: COPA's causal commonsense questions translated into 11 languages (2 choices). "
    "XTREME-R trains on SIQA, then COPA: fit `siqa` first and hand its encoder to this task.",
    role="target",
    metric=accuracy,
    primary_metric="accuracy",
    languages=XCOPA_LANGUAGES,
    benchmarks=("xtreme-r",),
    domain="everyday causal events",
    local=LocalFiles({"validation": "val.{lang}.jsonl", "test": "test.{lang}.jsonl"}, read_copa),
    hub=HubDataset("cambridgeltl/xcopa", "{lang}", {"validation": "validation", "test": "test"}, _copa_row),
    train_from=COPA,
    submission=ChoiceJsonl(),
)

TASKS = (XCOPA, COPA, SIQA)
