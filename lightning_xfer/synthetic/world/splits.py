"""The layout every world task writes: English train and dev splits in the task's own domain, and a
test split per language and domain that says the same examples in every language.

A task gives two functions: `draw` picks an example before it is put into words (a fact, a question
about it, its label), from a random stream that is the same for every language; `render` says a
split's examples in one language, as the file's text. Files: `{split}-{domain}-{lang}.{extension}`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lightning_xfer.synthetic.world import World
from lightning_xfer.synthetic.world.files import write_text
from lightning_xfer.synthetic.world.grammar import DOMAINS
from lightning_xfer.synthetic.world.realize import Speaker

Draw = Callable[[random.Random, str], Any]
"""(random stream, domain) -> one example before it is put into words."""
Render = Callable[[Speaker, list[Any], str], str]
"""(speaker, a split's examples, the split's name such as `test-news`) -> the file's text."""


def write_splits(world: World, directory: Path, name: str, train_domain: str, extension: str, draw: Draw,
                 render: Render, per_example: int = 1, draw_test: Draw | None = None) -> None:  # fmt: skip
    """Train and dev in English and `train_domain`, test in every language and domain.

    `name` seeds the task's streams; `per_example`: items of the split sizes one example holds (a QA
    paragraph holds two questions), so sizes count what the task's metric counts; `draw_test` draws
    the test examples where they differ from training's (a target whose training set shows only
    some of the words its test uses, `planted.py`)."""
    splits = [("train", train_domain, world.sizes.train, ("en",)),
              ("dev", train_domain, world.sizes.validation, ("en",))]  # fmt: skip
    splits += [("test", domain, world.sizes.test, world.codes) for domain in DOMAINS]
    for split, domain, size, codes in splits:
        stream = f"{world.seed}:{name}:{split}" if split != "test" else f"{world.seed}:{name}:test:{domain}"
        rng = random.Random(stream)
        drawer = draw_test if split == "test" and draw_test is not None else draw
        examples = [drawer(rng, domain) for _ in range(size // per_example)]
        for code in codes:
            text = render(world.speaker(code), examples, f"{split}-{domain}")
            write_text(directory / f"{split}-{domain}-{code}.{extension}", text)
