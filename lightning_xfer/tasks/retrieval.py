"""Retrieval targets evaluated straight from the encoder (no training), as XTREME does."""

from __future__ import annotations

from lightning_xfer.data.readers.tatoeba import read_tatoeba
from lightning_xfer.data.retrieval import Retrieval
from lightning_xfer.metrics.accuracy import accuracy
from lightning_xfer.tasks.task import LocalFiles, Task

TATOEBA_LANGUAGES = (
    "af", "ar", "bg", "bn", "de", "el", "es", "et", "eu", "fa", "fi", "fr", "he", "hi", "hu", "id", "it", "ja",
    "jv", "ka", "kk", "ko", "ml", "mr", "nl", "pt", "ru", "sw", "ta", "te", "th", "tl", "tr", "ur", "vi", "zh",
)  # fmt: skip
TATOEBA_R_LANGUAGES = ("az", "lt", "pl", "uk", "ro")

TATOEBA = Task(
    name="tatoeba",
    family=Retrieval(pooling="mean"),
    description="Tatoeba: find the English translation of each of 1,000 sentences per language "
    "(nearest neighbour by cosine of mean-pooled middle-layer states; no training).",
    role="target",
    metric=accuracy,
    primary_metric="accuracy",
    languages=TATOEBA_LANGUAGES + TATOEBA_R_LANGUAGES,
    benchmark_languages={"xtreme": TATOEBA_LANGUAGES, "xtreme-r": TATOEBA_LANGUAGES + TATOEBA_R_LANGUAGES},
    benchmarks=("xtreme", "xtreme-r"),
    domain="short everyday sentences (Tatoeba)",
    local=LocalFiles({"test": "tatoeba.{lang3}-eng.{lang3}"}, read_tatoeba),
    needs_training=False,
)

TASKS = (TATOEBA,)
