"""Tagging in the world: part-of-speech tags (UD-POS's shape) and named entities (PAN-X's shape).

The tags come from the grammar, so they are gold in every language: a derived language's word
keeps its base word's tag wherever its word order puts it. Files are XTREME's `token<TAB>tag`
lines with a blank line between sentences, in the layout of `splits.py`.
"""

from __future__ import annotations

import random
from pathlib import Path

from lightning_xfer.synthetic.world import World
from lightning_xfer.synthetic.world.grammar import DOMAINS, random_fact
from lightning_xfer.synthetic.world.realize import Saying, Speaker
from lightning_xfer.synthetic.world.splits import write_splits

POS_DOMAIN = "fiction"
NER_DOMAIN = "news"


def sentence(rng: random.Random, domain: str) -> Saying:
    """A statement (most often) or a presence, negation or sequel sentence."""
    fact = random_fact(rng, DOMAINS[domain])
    draw = rng.random()
    if draw < 0.7:
        return Saying("statement", fact, place=rng.random() < 0.8, day=rng.random() < 0.7)
    return Saying(["presence", "negation", "sequel"][int((draw - 0.7) / 0.1)], fact)


def _write_tags(world: World, directory: Path, column: str, train_domain: str) -> None:
    def render(speaker: Speaker, sentences: list[Saying], split: str) -> str:
        said = [s.words(speaker) for s in sentences]
        return "\n".join("".join(f"{w.text}\t{getattr(w, column)}\n" for w in words) for words in said)

    write_splits(world, directory, "tags", train_domain, "tsv", sentence, render)


def write_pos(world: World, directory: Path) -> None:
    """Universal POS tags; English train and dev in `POS_DOMAIN`."""
    _write_tags(world, directory, "pos", POS_DOMAIN)


def write_ner(world: World, directory: Path) -> None:
    """IOB2 entity tags (PER, ORG, LOC); English train and dev in `NER_DOMAIN`."""
    _write_tags(world, directory, "entity", NER_DOMAIN)
