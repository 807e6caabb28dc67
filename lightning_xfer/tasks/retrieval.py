"""Retrieval targets: Tatoeba and BUCC are evaluated straight from the encoder, as XTREME does
(and after intermediate-task training, where Phang et al. found the largest gains), with inputs up
to 512 tokens: Tatoeba on XTREME's middle layer (`hidden_states[8]` of 12 layers, `[14]` of 24; see
`middle_layer`), BUCC on the layer XTREME's BUCC script reads (`[8]` of 12, `[20]` of 24; see
`xtreme_layer`). LAReQA and Mewsli-X train a dual encoder on the last layer, as XTREME-R does, with
its settings: inputs lower-cased for XLM-R's vocabulary, the pooler's output, a logit scale of 100.
A task config's `protocol: ours` swaps each of these for the project's choice (`Retrieval.ours`)."""

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

# XTREME-R's dual encoder (`BertForRetrieval` and the LAReQA/Mewsli-X scripts): `--do_lower_case` for
# xlm-roberta, the pooler's output of the first token, a logit scale starting at 100.
XTREME_R_DUAL_ENCODER = {"lower_case_xlmr": True, "pooler": True, "logit_scale": 100.0}
OUR_DUAL_ENCODER = {"lower_case_xlmr": False, "pooler": False, "logit_scale": 20.0}

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
    # run_bucc2018.sh passes no --num_layers, so evaluate_retrieval.py's defaults pick the layer.
    family=Retrieval(pooling="first", mode="margin", encoder_layer="xtreme-defaults", ours={"encoder_layer": "middle"}),
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
    family=Retrieval(
        pooling="first",
        mode="pool",
        encoder_layer="last",
        **XTREME_R_DUAL_ENCODER,
        query_max_length=96,  # train_lareqa.sh / run_eval_lareqa.sh: MAX_QUERY_LEN=96
        ours={**OUR_DUAL_ENCODER, "query_max_length": None},
    ),
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
    family=Retrieval(
        pooling="first", mode="pool", encoder_layer="last", **XTREME_R_DUAL_ENCODER, ours=OUR_DUAL_ENCODER
    ),
    description="Mewsli-X: link mentions in 11 languages to English Wikidata entities (MRR@20, reported as "
    "map@20); dual encoder (first token of the last layer) trained on English Wikipedia mention/entity pairs.",
    role="target",
    metric=reciprocal_rank_at_20,
    primary_metric="map@20",
    languages=("ar", "de", "en", "es", "fa", "ja", "pl", "ro", "ta", "tr", "uk"),
    benchmarks=("xtreme-r",),
    domain="news (WikiNews) to Wikipedia",
    local=LocalFiles(
        {
            "train": "wikipedia_pairs-train.jsonl",
            "validation": "wikinews_mentions/dev-{lang}.jsonl",
            "test": "wikinews_mentions/test-{lang}.jsonl",
        },
        read_mewslix,
    ),
    max_length=64,  # XTREME-R's train_mewslix.sh
    submission=RankedJson(),
)

TASKS = (TATOEBA, BUCC, LAREQA, MEWSLIX)
