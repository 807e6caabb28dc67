"""Hidden word classes: a property of words that no sentence of the world states.

A class is drawn per world and domain (seeded), half of the domain's words of a slot in each, so
neither the pre-training corpus (no sentence says it) nor the domain (both classes live in each)
gives it away: only a task whose labels depend on it shows it. The planted study (`planted.py`)
uses the kind of each thing, which its target needs, and the class of each verb, which no target
uses.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from lightning_xfer.synthetic.world import World
from lightning_xfer.synthetic.world.grammar import DOMAINS


@dataclass(frozen=True)
class WordClasses:
    """Two classes of one slot's words (`thing` or `verb`) in every domain, drawn per world."""

    slot: str
    """The fact's slot whose words are classed: `thing` or `verb` (a domain's `things` / `verbs`)."""
    labels: tuple[str, str]
    """The two classes' names, as the tasks' label files write them."""

    def order(self, world: World, domain: str) -> list[str]:
        """The domain's words in the world's order: the first half has the first label."""
        words = getattr(DOMAINS[domain], f"{self.slot}s")
        return random.Random(f"{world.seed}:classes:{self.slot}:{domain}").sample(words, len(words))

    def classes(self, world: World, domain: str) -> dict[str, str]:
        """Word -> its class, for every word of the slot in `domain`."""
        order = self.order(world, domain)
        half = len(order) // 2
        return {word: self.labels[0] if i < half else self.labels[1] for i, word in enumerate(order)}

    def some_of_each(self, world: World, domain: str, per_class: int) -> tuple[str, ...]:
        """`per_class` words of each class (the first of each half of the order): a training set
        that shows only these leaves the class of every other word unknown."""
        order = self.order(world, domain)
        half = len(order) // 2
        return (*order[:per_class], *order[half : half + per_class])


THING_KINDS = WordClasses("thing", ("precious", "plain"))
"""What the planted intermediate task teaches and the `world-kind` target needs."""
VERB_CLASSES = WordClasses("verb", ("quiet", "loud"))
"""What the control task teaches: a class of the verbs, which no target's labels depend on."""
