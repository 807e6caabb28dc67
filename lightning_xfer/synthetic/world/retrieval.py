"""Parallel-sentence retrieval in the world (Tatoeba's shape): find each English sentence's translation.

The same facts said in English and in each derived language, line-aligned in Tatoeba's files
(`tatoeba.{lang}-eng.{lang}` and `tatoeba.{lang}-eng.eng`); nothing is trained, so the score says
how well pre-training (and the intermediate task) aligned the languages. Sentences of both domains.
"""

from __future__ import annotations

import random
from pathlib import Path

from lightning_xfer.synthetic.world import World
from lightning_xfer.synthetic.world.files import as_lines, write_text
from lightning_xfer.synthetic.world.grammar import DOMAINS, random_fact
from lightning_xfer.synthetic.world.realize import text


def write_retrieval(world: World, directory: Path) -> None:
    rng = random.Random(f"{world.seed}:retrieval")
    facts = [random_fact(rng, DOMAINS[name]) for name in sorted(DOMAINS) for _ in range(world.sizes.test // 2)]
    english = [text(world.speaker("en").statement(fact)) for fact in facts]
    for code in world.codes[1:]:
        write_text(directory / f"tatoeba.{code}-eng.eng", as_lines(english))
        said = (text(world.speaker(code).statement(fact)) for fact in facts)
        write_text(directory / f"tatoeba.{code}-eng.{code}", as_lines(said))
