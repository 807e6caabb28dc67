"""XTREME's target tasks (Hu et al., 2020): train on English, evaluate zero-shot in every language.

Local file layouts follow XTREME's `download_data.sh` output (after its preprocessing); a run's
`files:` setting overrides them for other copies of the data.
"""

from __future__ import annotations

from lightning_xfer.families.classification import Classification
from lightning_xfer.families.span_qa import SpanQA
from lightning_xfer.families.tagging import Tagging
from lightning_xfer.metrics.accuracy import accuracy
from lightning_xfer.metrics.mlqa import mlqa_scores
from lightning_xfer.metrics.seqeval_chunks import chunk_scores
from lightning_xfer.metrics.squad import squad_scores
from lightning_xfer.readers.dispatch import read_pair_file, read_qa_file, read_tagging_file
from lightning_xfer.tasks import hub_rows, intermediate, labels
from lightning_xfer.tasks.task import HubDataset, LocalFiles, Task

XNLI_LANGUAGES = ("ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh")
PAWSX_LANGUAGES = ("de", "en", "es", "fr", "ja", "ko", "zh")
PANX_LANGUAGES = (
    "af",
    "ar",
    "bg",
    "bn",
    "de",
    "el",
    "en",
    "es",
    "et",
    "eu",
    "fa",
    "fi",
    "fr",
    "he",
    "hi",
    "hu",
    "id",
    "it",
    "ja",
    "jv",
    "ka",
    "kk",
    "ko",
    "ml",
    "mr",
    "ms",
    "my",
    "nl",
    "pt",
    "ru",
    "sw",
    "ta",
    "te",
    "th",
    "tl",
    "tr",
    "ur",
    "vi",
    "yo",
    "zh",
)
UDPOS_LANGUAGES = (
    "af",
    "ar",
    "bg",
    "de",
    "el",
    "en",
    "es",
    "et",
    "eu",
    "fa",
    "fi",
    "fr",
    "he",
    "hi",
    "hu",
    "id",
    "it",
    "ja",
    "kk",
    "ko",
    "mr",
    "nl",
    "pt",
    "ru",
    "ta",
    "te",
    "th",
    "tl",
    "tr",
    "ur",
    "vi",
    "yo",
    "zh",
)
XQUAD_LANGUAGES = ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh")
# XTREME-R's additions (Ruder et al., 2021, Table 1).
PANX_R_EXTRA = ("qu", "pl", "uk", "az", "lt", "pa", "gu", "ro")
UDPOS_R_EXTRA = ("lt", "pl", "uk", "wo", "ro")  # from UD v2.7
XQUAD_R_EXTRA = ("ro",)
MLQA_LANGUAGES = ("ar", "de", "en", "es", "hi", "vi", "zh")
TYDIQA_LANGUAGES = ("ar", "bn", "en", "fi", "id", "ko", "ru", "sw", "te")

CLASSIFICATION, TAGGING, SPAN_QA = Classification(), Tagging(), SpanQA()
_SPLIT_FILES = {"train": "train-{lang}.tsv", "validation": "dev-{lang}.tsv", "test": "test-{lang}.tsv"}

XNLI = Task(
    name="xnli",
    family=CLASSIFICATION,
    description="Cross-lingual NLI: MNLI-style premise/hypothesis pairs translated into 14 languages.",
    role="target",
    metric=accuracy,
    primary_metric="accuracy",
    languages=XNLI_LANGUAGES,
    labels=labels.NLI,
    label_aliases=labels.NLI_ALIASES,
    benchmarks=("xtreme", "xtreme-r"),
    domain="mixed genres (MNLI's ten)",
    local=LocalFiles({"validation": "dev-{lang}.tsv", "test": "test-{lang}.tsv"}, read_pair_file),
    hub=HubDataset("google/xtreme", "XNLI", {"validation": "validation", "test": "test"}, hub_rows.xnli),
    train_from=intermediate.MNLI,
)

PAWSX = Task(
    name="pawsx",
    family=CLASSIFICATION,
    description="PAWS-X: adversarial paraphrase identification, English train, 6 translated test sets.",
    role="target",
    metric=accuracy,
    primary_metric="accuracy",
    languages=PAWSX_LANGUAGES,
    labels=labels.BINARY,
    benchmarks=("xtreme",),
    domain="Wikipedia",
    local=LocalFiles(_SPLIT_FILES, read_pair_file),
    hub=HubDataset(
        "google/xtreme",
        "PAWS-X.{lang}",
        {"train": "train", "validation": "validation", "test": "test"},
        hub_rows.pawsx,
    ),
)

PANX = Task(
    name="panx",
    family=TAGGING,
    description="PAN-X / WikiANN named entities (PER, ORG, LOC) in IOB2, Rahimi et al. splits.",
    role="target",
    metric=chunk_scores,
    primary_metric="f1",
    languages=PANX_LANGUAGES + PANX_R_EXTRA,
    benchmark_languages={"xtreme": PANX_LANGUAGES, "xtreme-r": PANX_LANGUAGES + PANX_R_EXTRA},
    labels=labels.PANX,
    benchmarks=("xtreme", "xtreme-r"),
    domain="Wikipedia",
    local=LocalFiles(_SPLIT_FILES, read_tagging_file),
    hub=HubDataset(
        "google/xtreme",
        "PAN-X.{lang}",
        {"train": "train", "validation": "validation", "test": "test"},
        hub_rows.tagging("ner_tags", labels.PANX),
    ),
)

UDPOS = Task(
    name="udpos",
    family=TAGGING,
    description="Universal Dependencies v2.5 part-of-speech tags (17 UPOS); all treebanks of a language.",
    role="target",
    metric=chunk_scores,
    primary_metric="f1",
    languages=UDPOS_LANGUAGES + UDPOS_R_EXTRA,
    benchmark_languages={"xtreme": UDPOS_LANGUAGES, "xtreme-r": UDPOS_LANGUAGES + UDPOS_R_EXTRA},
    labels=labels.UPOS,
    benchmarks=("xtreme", "xtreme-r"),
    domain="mixed (news, web, fiction, legal, ...)",
    local=LocalFiles(_SPLIT_FILES, read_tagging_file),
    hub=HubDataset(
        "google/xtreme",
        "udpos.{Language}",
        {"train": "train", "validation": "validation", "test": "test"},
        hub_rows.tagging("pos_tags", labels.UPOS),
    ),
)

XQUAD = Task(
    name="xquad",
    family=SPAN_QA,
    description="XQuAD: 240 SQuAD v1.1 dev paragraphs (1,190 questions) translated into 10 languages.",
    role="target",
    metric=squad_scores,
    primary_metric="f1",
    languages=XQUAD_LANGUAGES + XQUAD_R_EXTRA,
    benchmark_languages={"xtreme": XQUAD_LANGUAGES, "xtreme-r": XQUAD_LANGUAGES + XQUAD_R_EXTRA},
    benchmarks=("xtreme", "xtreme-r"),
    domain="Wikipedia",
    local=LocalFiles({"test": "xquad.{lang}.json"}, read_qa_file),
    hub=HubDataset("google/xtreme", "XQuAD.{lang}", {"test": "validation"}, hub_rows.squad),
    train_from=intermediate.SQUAD,
    max_length=384,
)

MLQA = Task(
    name="mlqa",
    family=SPAN_QA,
    description="MLQA: extractive QA over Wikipedia, context and question in the same language.",
    role="target",
    metric=mlqa_scores,
    primary_metric="f1",
    languages=MLQA_LANGUAGES,
    benchmarks=("xtreme", "xtreme-r"),
    domain="Wikipedia",
    local=LocalFiles(
        {
            "validation": "MLQA_V1/dev/dev-context-{lang}-question-{lang}.json",
            "test": "MLQA_V1/test/test-context-{lang}-question-{lang}.json",
        },
        read_qa_file,
    ),
    hub=HubDataset("google/xtreme", "MLQA.{lang}.{lang}", {"validation": "validation", "test": "test"}, hub_rows.squad),
    train_from=intermediate.SQUAD,
    max_length=384,
)

TYDIQA = Task(
    name="tydiqa",
    family=SPAN_QA,
    description="TyDiQA-GoldP: information-seeking questions with the gold passage; XTREME tests on its dev set.",
    role="target",
    metric=squad_scores,
    primary_metric="f1",
    languages=TYDIQA_LANGUAGES,
    benchmarks=("xtreme", "xtreme-r"),
    domain="Wikipedia",
    local=LocalFiles(
        {
            "train": "tydiqa-goldp-v1.1-train/tydiqa.{lang}.train.json",
            "test": "tydiqa-goldp-v1.1-dev/tydiqa.{lang}.dev.json",
        },
        read_qa_file,
    ),
    hub=HubDataset("google/xtreme", "tydiqa", {"train": "train", "test": "validation"}, hub_rows.tydiqa),
    max_length=384,
)

TASKS = (XNLI, PAWSX, PANX, UDPOS, XQUAD, MLQA, TYDIQA)
