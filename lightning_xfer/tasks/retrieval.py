"""Retrieval targets: Tatoeba and BUCC are evaluated straight from the encoder, as XTREME does
(and after intermediate-task training, where Phang et al. found the largest gains), on XTREME's
middle layer (`hidden_states[8]` of 12 layers, `[14]` of 24; see `middle_layer`) with inputs up to
512 tokens; LAReQA and Mewsli-X train a dual encoder on the last layer, as XTREME-R does."""

from __future__ import annotations

from lightning_xfer.families.retrieval import Retrieval
from lightning_xfer.metrics.accuracy import accuracy
from lightning_xfer.metrics.bucc import bucc_scores
from lightning_xfer.metrics.ranking import average_precision_at_20, reciprocal_rank_at_20
from lightning_xfer.readers.bucc import read_bucc
from lightning_xfer.readers.mewslix import read_mewslix
from lightning_xfer.readers.tatoeba import read_tatoeba
from lightning_xfer.readers.xquad_r import read_xquad_r, squad_to_answer_sentences
from lightning_xfer.submission.formats import LabelLines, PairLines, RankedJson
from lightning_xfer.tasks.intermediate import SQUAD
from lightning_xfer.tasks.task import LocalFiles, Task

TATOEBA_LANGUAGES = (
    "af", "ar", "bg", "bn", "de", "el", "es", "et", "eu", "fa", "fi", "fr", "he", "hi", "hu", "id", "it", "ja",
    "jv", "ka", "kk", "ko", "ml", "mr", "nl", "pt", "ru", "sw", "ta", "te", "th", "tl", "tr", "ur", "vi", "zh",
)  # fmt: skip
TATOEBA_R_LANGUAGES = ("az", "lt", "pl", "uk", "ro")

TATOEBA = Task(
    name="tatoeba",
    family=Retrieval(pooling="mean"),
    description="Tatoeba: for each of up to 1,000 English sentences, find its translation among the "
    "language's sentences (nearest neighbour by cosine of mean-pooled middle-layer states, English as "
    "the query, as XTREME; no training).",
    role="target",
    metric=accuracy,
    primary_metric="accuracy",
    languages=TATOEBA_LANGUAGES + TATOEBA_R_LANGUAGES,
    benchmark_languages={"xtreme": TATOEBA_LANGUAGES, "xtreme-r": TATOEBA_LANGUAGES + TATOEBA_R_LANGUAGES},
    benchmarks=("xtreme", "xtreme-r"),
    domain="short everyday sentences (Tatoeba)",
    local=LocalFiles({"test": "tatoeba.{lang3}-eng.{lang3}"}, read_tatoeba),
    max_length=512,
    needs_training=False,
    submission=LabelLines(integer=True),
)

BUCC = Task(
    name="bucc2018",
    family=Retrieval(pooling="first", mode="margin"),
    description="BUCC 2018 parallel sentence mining from comparable corpora: CLS of the middle layer, "
    "ratio margin over 4 neighbours both ways, threshold tuned on the dev (sample) gold; no training.",
    role="target",
    metric=bucc_scores,
    primary_metric="f1",
    languages=("de", "fr", "ru", "zh"),
    benchmarks=("xtreme",),
    domain="news commentary and web (comparable corpora)",
    local=LocalFiles({"validation": "{lang}-en.dev.{lang}", "test": "{lang}-en.test.{lang}"}, read_bucc),
    max_length=512,
    needs_training=False,
    submission=PairLines(),
)

LAREQA = Task(
    name="lareqa",
    family=Retrieval(pooling="first", mode="pool", encoder_layer="last"),
    description="LAReQA on XQuAD-R: retrieve a question's answer sentence in any of 11 languages from one "
    "pool of all of them (mAP@20); dual encoder (first token of the last layer) trained on SQuAD "
    "question/answer pairs, an answer encoded as its sentence followed by its paragraph.",
    role="target",
    metric=average_precision_at_20,
    primary_metric="map@20",
    languages=("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh"),
    benchmarks=("xtreme-r",),
    domain="Wikipedia",
    local=LocalFiles({"test": "{lang}.json"}, read_xquad_r),
    max_length=256,  # XTREME-R's max_answer_length: candidates hold their whole paragraph
    train_from=SQUAD,
    train_converter=squad_to_answer_sentences,
    submission=RankedJson(),
)

MEWSLIX = Task(
    name="mewslix",
    family=Retrieval(pooling="first", mode="pool", encoder_layer="last"),
    description="Mewsli-X: link mentions in 11 languages to English Wikidata entities (MRR@20, reported as "
    "map@20); dual encoder (first token of the last layer) trained on English Wikipedia mention/entity pairs.",
    role="target",
    metric=reciprocal_rank_at_20,
    primary_metric="map@20",
    languages=("ar", "de", "en", "es", "fa", "ja", "pl", "ro", "ta", "tr", "uk"),
    benchmarks=("xtreme-r",),
    domain="news (WikiNews) to Wikipedia",
    local=LocalFiles(
        {"train": "wikipedia_pairs-train.jsonl", "validation": "dev-{lang}.jsonl", "test": "test-{lang}.jsonl"},
        read_mewslix,
    ),
    max_length=64,  # XTREME-R's train_mewslix.sh
    submission=RankedJson(),
)

TASKS = (TATOEBA, BUCC, LAREQA, MEWSLIX)
