"""The embedded world: a small generated multilingual world in which the whole study runs offline.

Real benchmarks never let a researcher set the factors of the research question by hand; here they
are fields (K et al. 2020 and Dufter & Schütze 2020 study transfer with such "fake" languages):

- `grammar`: the base language (the world's `en`): facts about people, organisations, things,
  places and days in two domains (`news`, `fiction`), with gold POS and entity tags;
- `languages`: nine derived languages that differ from it in lexical overlap, word order, script
  and amount of pre-training text (`LANGUAGES`);
- `realize`: the sentence shapes (statements, questions, negations, ...) in any language;
- one writer per task family, each writing the real benchmark's file format so the data goes
  through the same readers, families and metrics as XTREME's: `nli` (XNLI TSV), `tagging` (XTREME
  token TSV, POS and NER), `qa` (SQuAD JSON), `choice` (HellaSwag JSON lines), `retrieval` (Tatoeba
  files) and `corpus` (plain text for MLM pre-training, imbalanced as the tiers say);
- a study with a known answer: `kinds` (hidden classes of words that no sentence states) and
  `planted` (a target that needs one, an intermediate task that teaches it, a control that does not).

Everything is a function of `World` (its seed and languages): the same world writes the same
bytes, and `World.fingerprint` names a cache of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from lightning_xfer.synthetic.world.languages import LANGUAGES, WorldLanguage, lexicon
from lightning_xfer.synthetic.world.realize import Speaker

WORLD_VERSION = 2
"""Bumped when a writer changes what it writes, so cached files are written again."""


@dataclass(frozen=True)
class Sizes:
    """How many examples each split holds (per language and domain for test splits)."""

    train: int = 2000
    validation: int = 200
    test: int = 200


@dataclass(frozen=True)
class World:
    """A seeded world: its languages (the first is the base language, `en`) and split sizes."""

    seed: int = 0
    languages: tuple[WorldLanguage, ...] = LANGUAGES
    sizes: Sizes = Sizes()

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(language.code for language in self.languages)

    def language(self, code: str) -> WorldLanguage:
        return next(language for language in self.languages if language.code == code)

    @cached_property
    def speakers(self) -> dict[str, Speaker]:
        return {language.code: Speaker(language, lexicon(language, self.seed)) for language in self.languages}

    def speaker(self, code: str) -> Speaker:
        return self.speakers[code]

    @property
    def fingerprint(self) -> str:
        """Names the files this world writes: its version, seed, languages and sizes."""
        return hashlib.sha256(f"{WORLD_VERSION}:{self.seed}:{self.languages}:{self.sizes}".encode()).hexdigest()[:12]


WORLD = World()
"""The default world every `world-*` task of the catalogue is written from."""


@dataclass(frozen=True)
class WorldWriter:
    """A catalogue task's generator: writes one task family's files of a world into a directory."""

    write: Callable[[World, Path], None]
    world: World = WORLD

    def __call__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.write(self.world, directory)

    @property
    def fingerprint(self) -> str:
        """Changes whenever the files would: the world's fingerprint and the writer's name."""
        return f"{self.write.__module__}.{self.write.__name__}:{self.world.fingerprint}"


__all__ = ["LANGUAGES", "WORLD", "Sizes", "World", "WorldLanguage", "WorldWriter"]
