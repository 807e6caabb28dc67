"""The world's base language: an English-like grammar of entities, events and attributes.

A sentence is made from a `Fact` (who did what to which thing, where and when), so every task can
be derived from the same facts with its gold answer known: tags for each word, the span that
answers a question, the hypothesis a premise entails or contradicts. The words are English (the
base language is the world's `en`, the language every task trains in); the derived languages in
`languages.py` re-spell, re-order and re-script them.

Two domains have their own verbs, things, attributes and places (`news`: institutions in towns;
`fiction`: household things in story places); people, towns, numbers, days and the function
words are shared by both, as they are across real domains.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Domain:
    """A domain's own vocabulary: what happens, to what, of which kind, and where."""

    name: str
    verbs: tuple[str, ...]
    """Past-tense verbs; `next_verb` pairs each with the one that typically follows it."""
    things: tuple[str, ...]
    attributes: tuple[str, ...]
    places: tuple[str, ...]
    """Common-noun places (`the harbour`), besides the shared towns."""
    loanwords: tuple[str, ...] = ()
    """Words every language borrows from English (`lamp`, as `telephone` is borrowed in most real
    languages): written as English in Latin script and transliterated in others, whatever the
    language's overlap. The known answer lives in these words (`planted.py`), so its gain reaches
    every Latin-script language as English's own words and another script only through pre-training."""

    def next_verb(self, verb: str) -> str:
        """The event that follows `verb` in this domain's stories (the multiple-choice task's commonsense)."""
        return self.verbs[(self.verbs.index(verb) + 1) % len(self.verbs)]


NEWS = Domain(
    "news",
    verbs=("visited", "praised", "funded", "built", "opened", "inspected", "sold", "closed"),
    things=("museum", "bridge", "stadium", "hospital", "school", "factory", "market", "library", "station", "harbour"),
    attributes=("new", "old", "large", "public", "national", "local", "modern", "famous"),
    places=("capital", "province", "district", "region"),
)
FICTION = Domain(
    "fiction",
    verbs=("found", "carried", "painted", "hid", "lost", "washed", "mended", "dropped"),
    things=("lamp", "basket", "key", "letter", "boat", "cake", "coat", "mirror", "kettle", "rope"),
    attributes=("red", "small", "heavy", "golden", "broken", "wooden", "warm", "blue"),
    places=("forest", "kitchen", "garden", "cave", "tower", "cellar"),
    loanwords=("lamp", "basket", "key", "letter", "boat", "cake", "coat", "mirror", "kettle", "rope"),
)
DOMAINS = {domain.name: domain for domain in (NEWS, FICTION)}

FIRST_NAMES = (
    "Anna", "Marco", "Lena", "Tariq", "Sofia", "Jonas", "Mei", "Pavel", "Amara", "Lucas", "Ines", "Kofi",
    "Yara", "Emil", "Nadia", "Ravi", "Olga", "Hugo", "Leila", "Tomas", "Zara", "Felix", "Ayla", "Bruno",
)  # fmt: skip
SURNAMES = (
    "Berg", "Costa", "Novak", "Haddad", "Lind", "Moreau", "Sato", "Kovac", "Okafor", "Weber", "Rossi", "Dahl",
    "Ferreira", "Ivanov", "Park", "Nilsen",
)  # fmt: skip
TOWNS = (
    "Varna", "Oslen", "Tirano", "Kessel", "Morvik", "Alcora", "Dunmore", "Belgar", "Sorrin", "Palmera", "Ostrava",
    "Lindor", "Caspia", "Hollin", "Brevik", "Tamsin",
)  # fmt: skip
ORGANISATION_KINDS = ("Bank", "United", "Group", "Council")
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
FUNCTION_WORDS = ("the", "a", "in", "on", "at", "near", "and", "then", "was", "never", "who", "what", "where", "when")
PUNCTUATION = (".", ",", "?")


@dataclass(frozen=True)
class Token:
    """One word of a sentence with its gold annotations."""

    word: str
    """The base-language word; a derived language spells it through its lexicon."""
    pos: str
    """Universal POS tag."""
    entity: str = "O"
    """IOB2 named-entity tag (PER, ORG, LOC)."""
    kind: str = "word"
    """`word` (in the lexicon), `name` (a proper name: kept or transliterated, never translated) or
    `number` (digits, written alike in every language, as most scripts' users write them)."""


@dataclass(frozen=True)
class Fact:
    """Who did what to which thing, where and when: one event of the world."""

    domain: str
    agent: tuple[str, ...]
    """A person (first name, surname) or an organisation (name, kind)."""
    agent_is_person: bool
    verb: str
    thing: str
    attribute: str
    count: int | None
    """A number of things (`12 old bridges`), or None for `the old bridge`."""
    place: str
    place_is_town: bool
    day: str | None


def agent_tokens(fact: Fact) -> tuple[Token, ...]:
    entity = "PER" if fact.agent_is_person else "ORG"
    return tuple(
        Token(word, "PROPN", f"{'B' if i == 0 else 'I'}-{entity}", "name") for i, word in enumerate(fact.agent)
    )


def thing_tokens(fact: Fact) -> tuple[Token, ...]:
    """The object noun phrase without its determiner: (number) attribute thing."""
    number = (Token(str(fact.count), "NUM", kind="number"),) if fact.count is not None else ()
    return (*number, Token(fact.attribute, "ADJ"), Token(fact.thing, "NOUN"))


def determiner(fact: Fact) -> tuple[Token, ...]:
    return () if fact.count is not None else (Token("the", "DET"),)


def place_tokens(fact: Fact) -> tuple[Token, ...]:
    """The place noun phrase without its adposition: a town, or `the harbour`."""
    if fact.place_is_town:
        return (Token(fact.place, "PROPN", "B-LOC", "name"),)
    return (Token("the", "DET"), Token(fact.place, "NOUN"))


def time_tokens(fact: Fact) -> tuple[Token, ...]:
    return (Token(fact.day, "NOUN"),) if fact.day else ()


def random_fact(rng: random.Random, domain: Domain) -> Fact:
    """A fact of `domain`: a person or organisation, one of its events, a thing, a place, maybe a day."""
    person = rng.random() < 0.7 or domain is not NEWS  # organisations act in the news only
    agent = (rng.choice(FIRST_NAMES), rng.choice(SURNAMES) if rng.random() < 0.5 else None)
    if not person:
        agent = (rng.choice(SURNAMES + TOWNS), rng.choice(ORGANISATION_KINDS))
    town = rng.random() < 0.6
    return Fact(
        domain=domain.name,
        agent=tuple(a for a in agent if a),
        agent_is_person=person,
        verb=rng.choice(domain.verbs),
        thing=rng.choice(domain.things),
        attribute=rng.choice(domain.attributes),
        count=rng.randint(2, 99) if rng.random() < 0.25 else None,
        place=rng.choice(TOWNS) if town else rng.choice(domain.places),
        place_is_town=town,
        day=rng.choice(DAYS) if rng.random() < 0.5 else None,
    )


def vary(fact: Fact, slot: str, rng: random.Random) -> Fact:
    """`fact` with one slot (`agent`, `verb`, `thing`, `attribute`, `place`, `day`) set to another value."""
    domain = DOMAINS[fact.domain]
    while True:
        other = random_fact(rng, domain)
        changed = {
            "agent": {"agent": other.agent, "agent_is_person": other.agent_is_person},
            "verb": {"verb": other.verb},
            "thing": {"thing": other.thing},
            "attribute": {"attribute": other.attribute},
            "place": {"place": other.place, "place_is_town": other.place_is_town},
            "day": {"day": other.day or rng.choice(DAYS)},
        }[slot]
        candidate = replace(fact, **changed)
        if candidate != fact:
            return candidate


def lexicon_words() -> list[str]:
    """Every word a derived language translates: function words and both domains' vocabularies."""
    words = set(FUNCTION_WORDS) | set(DAYS)
    for domain in DOMAINS.values():
        words |= {*domain.verbs, *domain.things, *domain.attributes, *domain.places}
    return sorted(words)


def loanwords() -> set[str]:
    """Every word borrowed from English by every language (`Domain.loanwords`)."""
    return {word for domain in DOMAINS.values() for word in domain.loanwords}


def names() -> list[str]:
    """Every proper name (people, towns, organisation kinds): transliterated, never translated."""
    return sorted({*FIRST_NAMES, *SURNAMES, *TOWNS, *ORGANISATION_KINDS})
