"""MLQA's language-aware exact match and F1.

MLQA's scorer normalises answers per language: lower-case; remove every Unicode punctuation
character (categories P*) and ASCII punctuation; remove articles (en: a/an/the; es: un/una/unos/
unas/el/la/los/las; de: ein/eine/einen/einem/eines/einer/der/die/das/den/dem/des; vi: của/là/cái/
chiếc/những; ar: every `ال`; none for hi and zh); then split on whitespace, except Chinese, where
every CJK character and punctuation mark is a token of its own.
"""

from __future__ import annotations

import re
import string
import sys
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

from lightning_xfer.errors import UserError
from lightning_xfer.metrics.squad import question_scores, span_records, span_scores

_ARTICLES = {
    "en": re.compile(r"\b(a|an|the)\b"),
    "es": re.compile(r"\b(un|una|unos|unas|el|la|los|las)\b"),
    "de": re.compile(r"\b(ein|eine|einen|einem|eines|einer|der|die|das|den|dem|des)\b"),
    "vi": re.compile(r"\b(của|là|cái|chiếc|những)\b"),
    "ar": re.compile(r"\sال^|ال"),  # MLQA's pattern: in effect, every occurrence of the article
    "hi": None,
    "zh": None,
}
_CJK = re.compile(r"[\u4e00-\u9fa5]")


@lru_cache(maxsize=1)
def _punctuation() -> frozenset[str]:
    unicode_punctuation = {chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)).startswith("P")}
    return frozenset(unicode_punctuation | set(string.punctuation))


def _segments(text: str) -> list[str]:
    """Whitespace tokens, with every CJK character and punctuation mark split off on its own."""
    tokens, pending = [], []
    punctuation = _punctuation()
    for char in text:
        if _CJK.match(char) or char in punctuation:
            tokens.extend("".join(pending).split())
            pending.clear()
            tokens.append(char)
        else:
            pending.append(char)
    tokens.extend("".join(pending).split())
    return tokens


def mlqa_tokens(text: str, language: str) -> list[str]:
    """The normalised tokens MLQA compares."""
    if language not in _ARTICLES:
        raise UserError(f"MLQA scoring knows languages {sorted(_ARTICLES)}, not {language!r}")
    punctuation = _punctuation()
    text = "".join(ch for ch in text.lower() if ch not in punctuation)
    articles = _ARTICLES[language]
    if articles is not None:
        text = articles.sub(" ", text)
    tokens = _segments(text) if language == "zh" else text.split()
    return [t for t in tokens if t.strip()]


def mlqa_scores(
    predictions: Mapping[str, str], references: Mapping[str, Sequence[str]], language: str
) -> dict[str, float]:
    """{"exact_match", "f1"} with MLQA's normalisation for `language`."""
    return span_scores(predictions, references, normalize=_normalizer(language), tokenize=str.split)


def mlqa_scores_by_example(
    predictions: Mapping[str, str], references: Mapping[str, Sequence[str]], language: str
) -> dict[str, dict[str, float]]:
    """`mlqa_scores` per question (see `lightning_xfer.metrics.squad.span_records`)."""
    return span_records(question_scores(predictions, references, _normalizer(language), tokenize=str.split))


def _normalizer(language: str) -> Callable[[str], str]:
    return lambda text: " ".join(mlqa_tokens(text, language))
