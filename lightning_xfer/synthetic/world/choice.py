"""Multiple choice in the world (HellaSwag's shape): which sentence continues the story?

The context states a fact; of four sequels (`then Anna carried the red lamp .`) one is right: the
same agent does the domain's next event (`Domain.next_verb`, the world's commonsense) to the same
thing. The three others each break one of those: an event of the other domain, which makes no
sense for the thing (`then Anna funded the red lamp .`), another thing, or another agent.
Files are HellaSwag's JSON lines (`ind, ctx_a, ctx_b, endings, label`) in the layout of `splits.py`,
trained in `TRAIN_DOMAIN`.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

from lightning_xfer.synthetic.world import World
from lightning_xfer.synthetic.world.files import as_jsonl
from lightning_xfer.synthetic.world.grammar import DOMAINS, Fact, random_fact, vary
from lightning_xfer.synthetic.world.realize import Speaker, text
from lightning_xfer.synthetic.world.splits import write_splits

TRAIN_DOMAIN = "fiction"


def example(rng: random.Random, domain: str) -> tuple[Fact, list[Fact], int]:
    """(context fact, four sequel facts, index of the right one)."""
    fact = random_fact(rng, DOMAINS[domain])
    right = dataclasses.replace(fact, verb=DOMAINS[domain].next_verb(fact.verb))
    other_domain = next(d for name, d in DOMAINS.items() if name != domain)
    wrong_event = dataclasses.replace(right, verb=rng.choice(other_domain.verbs))  # `painted the stadium`
    endings = [right, wrong_event, vary(right, "thing", rng), vary(right, "agent", rng)]
    order = rng.sample(range(4), 4)
    return fact, [endings[i] for i in order], order.index(0)


def render(speaker: Speaker, examples: list[tuple[Fact, list[Fact], int]], split: str) -> str:
    return as_jsonl(
        {"ind": number, "ctx_a": text(speaker.statement(fact, place=False, day=False)), "ctx_b": "",
         "endings": [text(speaker.sequel(ending)) for ending in endings], "label": label}
        for number, (fact, endings, label) in enumerate(examples)
    )  # fmt: skip


def write_choice(world: World, directory: Path) -> None:
    write_splits(world, directory, "choice", TRAIN_DOMAIN, "jsonl", example, render)
