"""Tagging in the world: part-of-speech tags (UD-POS's shape) and named entities (PAN-X's shape).

The tags come from the grammar, so they are gold in every language: a derived language's word
keeps its base word's tag wherever its word order puts it. Files are XTREME's `token<TAB>tag`
lines with a blank line between sentences, `{split}-{domain}-{lang}.tsv`: English train and dev
in the task's own domain, test in every language and both domains (the same sentences).
"""

from __future__ import annotations

import random
from pathlib import Path

from lightning_xfer.synthetic.world import World
from lightning_xfer.synthetic.world.files import write_text
from lightning_xfer.synthetic.world.grammar import DOMAINS, random_fact
from lightning_xfer.synthetic.world.realize import Speaker, Word

POS_DOMAIN = "fiction"
NER_DOMAIN = "news"


def sentence(speaker: Speaker, rng: random.Random, domain: str) -> list[Word]:
    """A statement (most often) or a presence, negation or sequel sentence."""
    fact = random_fact(rng, DOMAINS[domain])
    draw = rng.random()
    if draw < 0.7:
        return speaker.statement(fact, place=rng.random() < 0.8, day=rng.random() < 0.7)
    return [speaker.presence, speaker.negation, speaker.sequel][int((draw - 0.7) / 0.1)](fact)


def _write_tags(world: World, directory: Path, column: str, train_domain: str) -> None:
    def write(path: Path, rng: random.Random, size: int, domain: str, code: str) -> None:
        speaker = world.speaker(code)
        sentences = [sentence(speaker, rng, domain) for _ in range(size)]
        write_text(path, "\n".join("".join(f"{w.text}\t{getattr(w, column)}\n" for w in s) for s in sentences))

    for split, size in (("train", world.sizes.train), ("dev", world.sizes.validation)):
        write(directory / f"{split}-{train_domain}-en.tsv", random.Random(f"{world.seed}:tags:{split}"), size,
              train_domain, "en")  # fmt: skip
    for domain in DOMAINS:
        for code in world.codes:  # the same seed in every language: the same sentences
            rng = random.Random(f"{world.seed}:tags:test:{domain}")
            write(directory / f"test-{domain}-{code}.tsv", rng, world.sizes.test, domain, code)


def write_pos(world: World, directory: Path) -> None:
    """Universal POS tags; English train and dev in `POS_DOMAIN`."""
    _write_tags(world, directory, "pos", POS_DOMAIN)


def write_ner(world: World, directory: Path) -> None:
    """IOB2 entity tags (PER, ORG, LOC); English train and dev in `NER_DOMAIN`."""
    _write_tags(world, directory, "entity", NER_DOMAIN)
