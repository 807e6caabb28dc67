"""The world's derived languages: how each one spells, orders and writes the base language.

Each factor of the research question is a field set by hand:
- **lexical overlap**: `shared_words` of the base vocabulary is written exactly as in English, and
  `cognates` of the rest shares its stem with English and adds the language's own ending (shared
  sub-words); names keep their spelling in Latin-script languages and are transliterated in others;
  numbers are digits everywhere, as most of the world writes them;
- **word order**: subject-verb-object, subject-object-verb or verb-subject-object, prepositions or
  postpositions, adjectives before or after the noun;
- **script**: Latin, Cyrillic, Greek or Georgian letters for every word the language does not share
  with English;
- **resource**: `pretraining_sentences` of text in the pre-training corpus (and `tier`, the report's
  high / mid / low grouping, set to match).

Everything else is equal across languages: the same facts are said in each, so a gap between two
languages comes from these fields alone.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Literal

from lightning_xfer.synthetic.world.grammar import lexicon_words, loanwords, names

SCRIPTS: dict[str, dict[str, str]] = {
    "Latin": {},
    "Cyrillic": dict(zip("abcdefghijklmnopqrstuvwxyz", "абцдефгхийклмнопярстувшжыз", strict=True)),
    "Greek": dict(zip("abcdefghijklmnopqrstuvwxyz", "αβψδεφγηιθκλμνοπχρστυωώξύζ", strict=True)),
    "Georgian": dict(zip("abcdefghijklmnopqrstuvwxyz", "აბცდეფგჰიჯკლმნოპქრსტუვწხყზ", strict=True)),
}
"""Letter-for-letter spellings of the Latin alphabet in each script (one character per letter)."""

_SYLLABLES = ("ka", "to", "ri", "mu", "sen", "dor", "vel", "an", "is", "ul", "pre", "gon", "stra", "mi", "lo", "ne",
              "fa", "bu", "ter", "zo", "li", "ga", "nor", "pi", "su", "re", "ko", "dan")  # fmt: skip


@dataclass(frozen=True)
class WorldLanguage:
    """One language of the world, as the differences from the base language that define it."""

    code: str
    """Its code in file names and the results table (the base language is `en`)."""
    tier: Literal["high", "mid", "low"]
    """Resource tier in the report: set to match `pretraining_sentences`."""
    pretraining_sentences: int
    """Sentences of this language in the MLM pre-training corpus."""
    shared_words: float = 0.0
    """Share of the base vocabulary's word types (loanwords aside) written exactly as in English."""
    cognates: float = 0.0
    """Share of the other word types written as the English word plus this language's ending."""
    order: Literal["SVO", "SOV", "VSO"] = "SVO"
    """Order of subject, verb and object; adjuncts (place, time) follow the object, or precede the
    verb in an SOV language."""
    adpositions: Literal["pre", "post"] = "pre"
    """`in Varna` or `Varna in`."""
    adjectives: Literal["before", "after"] = "before"
    """`the old bridge` or `the bridge old`."""
    script: str = "Latin"
    """A key of `SCRIPTS`: the letters of every word the language does not share with English."""

    def __post_init__(self) -> None:
        if self.script not in SCRIPTS:
            raise ValueError(f"language {self.code}: script {self.script!r} is not one of {', '.join(SCRIPTS)}")
        if not (0 <= self.shared_words <= 1 and 0 <= self.cognates <= 1):
            raise ValueError(f"language {self.code}: shared_words and cognates are shares between 0 and 1")


ENGLISH = WorldLanguage("en", "high", 8000, shared_words=1.0)

LANGUAGES = (
    ENGLISH,
    # The high tier: as much text as English; overlap falls from half the words to none.
    WorldLanguage("qa", "high", 8000, shared_words=0.5, cognates=0.5),
    WorldLanguage("qb", "high", 8000, shared_words=0.2, cognates=0.3),
    WorldLanguage("qc", "high", 8000, script="Cyrillic"),
    # The mid tier: the same three overlap levels, two of them with another word order.
    WorldLanguage("qd", "mid", 1500, shared_words=0.5, cognates=0.5, order="SOV", adpositions="post"),
    WorldLanguage("qe", "mid", 1500, order="VSO", adjectives="after", script="Greek"),
    WorldLanguage("qi", "mid", 1500, shared_words=0.2, cognates=0.3),
    # The low tier: the high tier's languages again, with a twentieth of the text.
    WorldLanguage("qf", "low", 400, shared_words=0.5, cognates=0.5),
    WorldLanguage("qg", "low", 400, shared_words=0.2, cognates=0.3),
    WorldLanguage("qh", "low", 400, script="Georgian"),
)
"""The default world: English and nine derived languages, three per tier. The high and low tiers
hold the same three languages (half the words shared, a fifth, none in another script) with 20
times less text in the low one, so the two tiers differ in resource alone; the mid tier has the
same overlap levels and varies word order. Codes come from ISO 639's range reserved for local use,
so none is a real language."""


def transliterate(text: str, script: str) -> str:
    """`text` in `script`, letter for letter (digits and other characters unchanged)."""
    table = SCRIPTS[script]
    return "".join(table.get(c, c) for c in text.lower()) if table else text


def _pseudo_word(word: str, salt: str, attempt: int) -> str:
    digest = hashlib.sha256(f"{salt}:{word}:{attempt}".encode()).digest()
    return "".join(_SYLLABLES[b % len(_SYLLABLES)] for b in digest[: 2 + digest[-1] % 2])


def ending(language: WorldLanguage, seed: int) -> str:
    """The language's ending for cognates (`museum` -> `museumvel`)."""
    digest = hashlib.sha256(f"{seed}:ending:{language.code}".encode()).digest()
    return _SYLLABLES[digest[0] % len(_SYLLABLES)]


def lexicon(language: WorldLanguage, seed: int) -> dict[str, str]:
    """Base word -> this language's word, for every word of `grammar.lexicon_words()`.

    Which words are shared or cognate is drawn once per world, in one order for every language:
    languages with the same shares share the same words (so they differ only in what else is set),
    and a language that shares less shares a subset. A made-up word never equals an English word or
    another made-up word of the language, so overlap is exactly what is set.
    """
    borrowed = loanwords()
    words = lexicon_words()
    own = [word for word in words if word not in borrowed]  # the words overlap is set on
    order = random.Random(f"{seed}:lexicon").sample(own, len(own))
    n_shared = round(language.shared_words * len(own))
    n_cognate = round(language.cognates * (len(own) - n_shared))
    shared, cognate = set(order[:n_shared]), set(order[n_shared : n_shared + n_cognate])
    taken = {w.lower() for w in [*words, *names()]}
    forms = {}
    for word in words:
        if word in borrowed:
            forms[word] = transliterate(word, language.script)
            continue
        if word in shared:
            forms[word] = word
            continue
        if word in cognate:
            form = word + ending(language, seed)
        else:
            attempt = 0
            while (form := _pseudo_word(word, f"{seed}:{language.code}", attempt)) in taken:
                attempt += 1
        taken.add(form)
        forms[word] = transliterate(form, language.script)
    return forms


def spell_name(name: str, language: WorldLanguage) -> str:
    """A proper name as the language writes it: as it is in Latin script, transliterated otherwise."""
    return name if language.script == "Latin" else transliterate(name, language.script).capitalize()
