"""NLI in the world (MNLI / XNLI's shape): does a hypothesis follow from a premise?

The premise says one fact. The world's rule for the labels, the same in every language:
- entailment: the hypothesis says part of the premise (an adjunct left out), or that the agent
  was at the premise's place;
- contradiction: the same agent and event with another place, day or attribute, or the premise's
  event negated (`never`);
- neutral: another agent did it (the premise says nothing about them), or a day the premise
  does not give.
Labels are balanced. Files: XTREME's headerless `premise<TAB>hypothesis<TAB>label` TSVs in the
layout of `splits.py`, trained in `TRAIN_DOMAIN`.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

from lightning_xfer.synthetic.world import World
from lightning_xfer.synthetic.world.files import as_lines
from lightning_xfer.synthetic.world.grammar import DAYS, DOMAINS, random_fact, vary
from lightning_xfer.synthetic.world.realize import Saying, Speaker, text
from lightning_xfer.synthetic.world.splits import write_splits

LABELS = ("entailment", "neutral", "contradiction")
TRAIN_DOMAIN = "fiction"


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


def render(speaker: Speaker, examples: list[tuple[Saying, Saying, str]], split: str) -> str:
    return as_lines(f"{text(p.words(speaker))}\t{text(h.words(speaker))}\t{label}" for p, h, label in examples)


def write_nli(world: World, directory: Path) -> None:
    write_splits(world, directory, "nli", TRAIN_DOMAIN, "tsv", example, render)
