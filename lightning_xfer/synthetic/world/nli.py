"""NLI in the world (MNLI / XNLI's shape): does a hypothesis follow from a premise?

The premise says one fact. The world's rule for the labels, the same in every language:
- entailment: the hypothesis says part of the premise (an adjunct left out), or that the agent
  was at the premise's place;
- contradiction: the same agent and event with another place, day or attribute, or the premise's
  event negated (`never`);
- neutral: another agent did it (the premise says nothing about them), or a day the premise
  does not give.
Labels are balanced. Files: XTREME's headerless `premise<TAB>hypothesis<TAB>label` TSVs,
`{split}-{domain}-{lang}.tsv`; English train and dev in `TRAIN_DOMAIN`, test in every language
and both domains.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from pathlib import Path

from lightning_xfer.synthetic.world import World
from lightning_xfer.synthetic.world.files import write_lines
from lightning_xfer.synthetic.world.grammar import DAYS, DOMAINS, Fact, random_fact, vary
from lightning_xfer.synthetic.world.realize import Speaker, Word, text

LABELS = ("entailment", "neutral", "contradiction")
TRAIN_DOMAIN = "fiction"


@dataclass(frozen=True)
class Saying:
    """A sentence before it is put into words: its shape, its fact, which adjuncts it states."""

    shape: str
    """`statement`, `presence` or `negation` (methods of `Speaker`)."""
    fact: Fact
    place: bool = True
    day: bool = True

    def words(self, speaker: Speaker) -> list[Word]:
        if self.shape == "statement":
            return speaker.statement(self.fact, self.place, self.day)
        return getattr(speaker, self.shape)(self.fact)


def example(rng: random.Random, domain: str) -> tuple[Saying, Saying, str]:
    """(premise, hypothesis, label), the label drawn uniformly."""
    fact = random_fact(rng, DOMAINS[domain])
    label = rng.choice(LABELS)
    premise = Saying("statement", fact)
    if label == "entailment":
        if rng.random() < 0.3:
            return premise, Saying("presence", fact), label
        place, day = rng.choice([(True, False), (False, True), (False, False)])
        return premise, Saying("statement", fact, place, day), label
    if label == "contradiction":
        if rng.random() < 0.3:
            return premise, Saying("negation", fact), label
        slot = rng.choice(["place", "attribute", "day"] if fact.day else ["place", "attribute"])
        return premise, Saying("statement", vary(fact, slot, rng), place=True, day=slot == "day"), label
    if rng.random() < 0.5:
        return premise, Saying("statement", vary(fact, "agent", rng), place=rng.random() < 0.5, day=False), label
    untold = dataclasses.replace(fact, day=fact.day or rng.choice(DAYS))
    return Saying("statement", untold, day=False), Saying("statement", untold, place=False), label


def write_nli(world: World, directory: Path) -> None:
    """English train/dev in `TRAIN_DOMAIN`; test in every language, in both domains (the same pairs)."""
    english = world.speaker("en")
    for split, size in (("train", world.sizes.train), ("dev", world.sizes.validation)):
        rng = random.Random(f"{world.seed}:nli:{split}")
        rows = (_row(english, *example(rng, TRAIN_DOMAIN)) for _ in range(size))
        write_lines(directory / f"{split}-{TRAIN_DOMAIN}-en.tsv", rows)
    for domain in DOMAINS:
        rng = random.Random(f"{world.seed}:nli:test:{domain}")
        examples = [example(rng, domain) for _ in range(world.sizes.test)]
        for code in world.codes:
            speaker = world.speaker(code)
            write_lines(directory / f"test-{domain}-{code}.tsv", (_row(speaker, *e) for e in examples))


def _row(speaker: Speaker, premise: Saying, hypothesis: Saying, label: str) -> str:
    return f"{text(premise.words(speaker))}\t{text(hypothesis.words(speaker))}\t{label}"
