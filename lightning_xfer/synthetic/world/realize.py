"""Saying a fact in a language: the sentence shapes every task and the pre-training corpus use.

A realised sentence is a list of `Word`s: the text as the language writes it, with the base
word's gold tags and the role it plays in the fact, so a task can read the answer span of a
question, or the tags of a word, in any language without aligning anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from lightning_xfer.synthetic.world.grammar import (
    Fact,
    Token,
    agent_tokens,
    determiner,
    place_tokens,
    thing_tokens,
    time_tokens,
)
from lightning_xfer.synthetic.world.languages import WorldLanguage, spell_name


@dataclass(frozen=True)
class Word:
    """One written word with its gold annotations."""

    text: str
    pos: str
    entity: str
    role: str
    """`agent`, `verb`, `thing`, `place`, `day`, or `` for function words and punctuation."""


@dataclass(frozen=True)
class Speaker:
    """A language with its lexicon: turns base tokens into the language's words, in its order."""

    language: WorldLanguage
    lexicon: dict[str, str]

    def spell(self, token: Token, role: str) -> Word:
        if token.kind == "name":
            text = spell_name(token.word, self.language)
        elif token.kind == "number" or token.pos == "PUNCT":
            text = token.word
        else:
            text = self.lexicon[token.word]
        return Word(text, token.pos, token.entity, role)

    def words(self, tokens: tuple[Token, ...], role: str = "") -> list[Word]:
        return [self.spell(token, role) for token in tokens]

    def noun_phrase(self, fact: Fact) -> list[Word]:
        """The thing: `the old bridge` / `the bridge old` / `12 old bridge`."""
        *number, attribute, thing = thing_tokens(fact)
        inner = [*number, attribute, thing] if self.language.adjectives == "before" else [*number, thing, attribute]
        return self.words((*determiner(fact), *inner), "thing")

    def adposition(self, word: str, phrase: list[Word]) -> list[Word]:
        adposition = self.words((Token(word, "ADP"),))
        return adposition + phrase if self.language.adpositions == "pre" else phrase + adposition

    def adjuncts(self, fact: Fact, place: bool = True, day: bool = True) -> list[Word]:
        out = []
        if place:
            phrase = self.words(place_tokens(fact), "place")
            out += self.adposition("in" if fact.place_is_town else "at", phrase)
        if day and fact.day:
            out += self.adposition("on", self.words(time_tokens(fact), "day"))
        return out

    def clause(self, subject: list[Word], verb: list[Word], obj: list[Word], adjuncts: list[Word]) -> list[Word]:
        """The constituents in the language's order (adjuncts after the object; before the verb in SOV)."""
        order = self.language.order
        if order == "SOV":
            return subject + adjuncts + obj + verb
        if order == "VSO":
            return verb + subject + obj + adjuncts
        return subject + verb + obj + adjuncts

    def punctuation(self, mark: str) -> list[Word]:
        return [Word(mark, "PUNCT", "O", "")]

    def statement(self, fact: Fact, place: bool = True, day: bool = True) -> list[Word]:
        """`Anna Berg visited the old bridge in Varna on monday .`"""
        verb = self.words((Token(fact.verb, "VERB"),), "verb")
        body = self.clause(self.words(agent_tokens(fact), "agent"), verb, self.noun_phrase(fact),
                           self.adjuncts(fact, place, day))  # fmt: skip
        return body + self.punctuation(".")

    def question(self, fact: Fact, asked: str) -> list[Word]:
        """`where Anna Berg visited the old bridge on monday ?`: the wh-word first, the asked part left out."""
        wh = {"agent": "who", "thing": "what", "place": "where", "day": "when"}[asked]
        verb = self.words((Token(fact.verb, "VERB"),), "verb")
        subject = [] if asked == "agent" else self.words(agent_tokens(fact), "agent")
        obj = [] if asked == "thing" else self.noun_phrase(fact)
        adjuncts = self.adjuncts(fact, place=asked != "place", day=asked != "day")
        return self.words((Token(wh, "PRON"),)) + self.clause(subject, verb, obj, adjuncts) + self.punctuation("?")

    def presence(self, fact: Fact) -> list[Word]:
        """`Anna Berg was in Varna .`"""
        was = self.words((Token("was", "AUX"),), "verb")
        body = self.clause(self.words(agent_tokens(fact), "agent"), was, [], self.adjuncts(fact, day=False))
        return body + self.punctuation(".")

    def negation(self, fact: Fact) -> list[Word]:
        """`Anna Berg never visited the old bridge .`"""
        verb = self.words((Token("never", "ADV"), Token(fact.verb, "VERB")), "verb")
        body = self.clause(self.words(agent_tokens(fact), "agent"), verb, self.noun_phrase(fact), [])
        return body + self.punctuation(".")

    def sequel(self, fact: Fact) -> list[Word]:
        """`then Anna Berg carried the old lamp .` (a story's next event)"""
        verb = self.words((Token(fact.verb, "VERB"),), "verb")
        body = self.clause(self.words(agent_tokens(fact), "agent"), verb, self.noun_phrase(fact), [])
        return self.words((Token("then", "ADV"),)) + body + self.punctuation(".")


@dataclass(frozen=True)
class Saying:
    """A sentence before it is put into words: its shape, its fact, which adjuncts a statement gives."""

    shape: str
    """`statement`, `presence`, `negation` or `sequel` (methods of `Speaker`)."""
    fact: Fact
    place: bool = True
    day: bool = True

    def words(self, speaker: Speaker) -> list[Word]:
        if self.shape == "statement":
            return speaker.statement(self.fact, self.place, self.day)
        return getattr(speaker, self.shape)(self.fact)


def text(words: list[Word]) -> str:
    return " ".join(word.text for word in words)
