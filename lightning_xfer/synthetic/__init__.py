"""A small generated multilingual world for the quick start, offline tests and the tiny presets.

English sentences about four topics come from templates; derived languages keep a configured share
of English words (lexical overlap, the main channel of zero-shot transfer in a model pre-trained
from scratch), change word order, or change script. The files are written in the XTREME
classification TSV layout (`{split}-{lang}.tsv`: `sentence<TAB>label`), so they go through the
same readers as real data. The full synthetic study world is a later, larger generator; this one
is deliberately small so the quick start trains in well under a minute on two CPU cores.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

TOPICS = ("sports", "food", "weather", "music")

_TOPIC_WORDS = {
    "sports": {
        "verb": ["kicked", "scored", "won", "lost", "played", "trained", "passed", "defended"],
        "noun": ["ball", "goal", "match", "team", "coach", "stadium", "race", "medal"],
        "adj": ["fast", "strong", "tired", "winning", "tall"],
    },
    "food": {
        "verb": ["cooked", "ate", "baked", "tasted", "sliced", "served", "boiled", "fried"],
        "noun": ["bread", "soup", "cheese", "apple", "rice", "cake", "salad", "pasta"],
        "adj": ["sweet", "salty", "fresh", "warm", "spicy"],
    },
    "weather": {
        "verb": ["saw", "feared", "watched", "predicted", "measured", "reported", "expected", "noticed"],
        "noun": ["rain", "storm", "snow", "wind", "cloud", "thunder", "fog", "frost"],
        "adj": ["cold", "heavy", "dark", "grey", "icy"],
    },
    "music": {
        "verb": ["sang", "heard", "composed", "recorded", "performed", "tuned", "whistled", "hummed"],
        "noun": ["song", "piano", "guitar", "choir", "concert", "melody", "drum", "violin"],
        "adj": ["loud", "quiet", "beautiful", "slow", "old"],
    },
}
_NAMES = ["Anna", "Marco", "Lena", "Tariq", "Sofia", "Jonas", "Mei", "Pavel", "Amara", "Lucas"]
_SHARED = [
    "the",
    "a",
    "in",
    "on",
    "at",
    "near",
    "after",
    "before",
    "today",
    "yesterday",
    "morning",
    "evening",
    "park",
    "city",
    "village",
]
_TEMPLATES = (
    "{name} {verb} the {adj} {noun} in the {place} {time}",
    "{time} {name} {verb} a {adj} {noun} near the {place}",
    "the {adj} {noun} was {verb} by {name} at the {place}",
)


@dataclass(frozen=True)
class DerivedLanguage:
    """How a derived language differs from English."""

    code: str
    shared_fraction: float
    """Share of English word types kept unchanged (names are always kept)."""
    verb_final: bool = False
    """Move the verb to the end of the sentence (a word-order change)."""
    script: str = "latin"
    """`latin` or `cyrillic`: the script of the non-shared words."""


LANGUAGES = (
    DerivedLanguage("xa", shared_fraction=0.75),
    DerivedLanguage("xb", shared_fraction=0.4, verb_final=True),
    DerivedLanguage("xc", shared_fraction=0.0, script="cyrillic"),
)
_SYLLABLES = [
    "ka",
    "to",
    "ri",
    "mu",
    "sen",
    "dor",
    "vel",
    "an",
    "is",
    "ul",
    "pre",
    "gon",
    "stra",
    "mi",
    "lo",
    "ne",
    "fa",
    "bu",
]
_CYRILLIC = dict(zip("abcdefghijklmnopqrstuvwxyz", "абцдефгхийклмнопярстувшхыз", strict=True))


def _pseudo_word(word: str, language: DerivedLanguage) -> str:
    digest = hashlib.sha256(f"{language.code}:{word}".encode()).digest()
    pieces = [_SYLLABLES[b % len(_SYLLABLES)] for b in digest[: 2 + digest[-1] % 2]]
    text = "".join(pieces)
    if language.script == "cyrillic":
        text = "".join(_CYRILLIC.get(c, c) for c in text)
    return text


def _lexicon(language: DerivedLanguage) -> dict[str, str]:
    words = sorted(
        {w for topic in _TOPIC_WORDS.values() for ws in topic.values() for w in ws}
        | set(_SHARED)
        | {w for t in _TEMPLATES for w in t.split() if not w.startswith("{")}
    )
    rng = random.Random(f"lexicon:{language.code}")
    kept = set(rng.sample(words, round(language.shared_fraction * len(words))))
    return {w: (w if w in kept else _pseudo_word(w, language)) for w in words}


def english_example(rng: random.Random) -> tuple[list[str], list[int], str]:
    """One English sentence as words, the index of its verb, and its topic label."""
    topic = rng.choice(TOPICS)
    words = dict(_TOPIC_WORDS[topic])
    if rng.random() < 0.3:  # a word from another topic, so the task is not pure keyword lookup
        words["adj"] = _TOPIC_WORDS[rng.choice(TOPICS)]["adj"]
    template = rng.choice(_TEMPLATES)
    filled = template.format(
        name=rng.choice(_NAMES),
        verb=rng.choice(words["verb"]),
        adj=rng.choice(words["adj"]),
        noun=rng.choice(words["noun"]),
        place=rng.choice(_SHARED[9:]),
        time=rng.choice(_SHARED[6:9]),
    ).split()
    verb_index = template.split().index("{verb}")
    return filled, verb_index, topic


def translate(words: list[str], verb_index: int, language: DerivedLanguage, lexicon: dict[str, str]):
    """The sentence in a derived language."""
    out = [w if w in _NAMES else lexicon.get(w, w) for w in words]
    if language.verb_final:
        out.append(out.pop(verb_index))
    return out


def write_topic_task(directory: Path, seed: int = 0, train_size: int = 2000, eval_size: int = 300) -> Path:
    """Write `train-en.tsv`, `dev-{lang}.tsv` and `test-{lang}.tsv` for every language."""
    directory.mkdir(parents=True, exist_ok=True)
    lexicons = {lang.code: _lexicon(lang) for lang in LANGUAGES}
    for split, size in (("train", train_size), ("dev", eval_size), ("test", eval_size)):
        rng = random.Random(f"{seed}:{split}")
        examples = [english_example(rng) for _ in range(size)]
        _write(directory / f"{split}-en.tsv", ((" ".join(w), t) for w, _, t in examples))
        if split == "train":
            continue
        for lang in LANGUAGES:
            rows = ((" ".join(translate(w, v, lang, lexicons[lang.code])), t) for w, v, t in examples)
            _write(directory / f"{split}-{lang.code}.tsv", rows)
    return directory


def _write(path: Path, rows) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(f"{text}\t{label}\n" for text, label in rows), encoding="utf-8")
    tmp.replace(path)


def write_mlm_corpus(directory: Path, seed: int = 0) -> Path:
    """`train.txt` (every language mixed) and `test-{lang}.txt`, one sentence per line."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = corpus(seed + 1, sentences_per_language=500)
    (directory / "train.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    codes = ["en", *(lang.code for lang in LANGUAGES)]
    for offset, code in enumerate(codes):  # corpus() interleaves the languages in this order
        test = corpus(seed + 2, sentences_per_language=100)[offset :: len(codes)]
        (directory / f"test-{code}.txt").write_text("\n".join(test) + "\n", encoding="utf-8")
    return directory


def corpus(seed: int = 0, sentences_per_language: int = 3000) -> list[str]:
    """Text in every synthetic language, for training the presets' tokenizer."""
    rng = random.Random(f"{seed}:corpus")
    lexicons = {lang.code: _lexicon(lang) for lang in LANGUAGES}
    lines = []
    for _ in range(sentences_per_language):
        words, verb, _ = english_example(rng)
        lines.append(" ".join(words))
        lines.extend(" ".join(translate(words, verb, lang, lexicons[lang.code])) for lang in LANGUAGES)
    return lines
