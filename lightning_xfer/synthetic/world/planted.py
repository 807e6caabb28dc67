"""A study with a known answer: an intermediate task that teaches what a target needs, and a control.

The world's other tasks plant the factors of the transfer gap; none plants a gain from intermediate
training, so nothing shows that the study finds a gain that exists, or stays quiet about one that
does not. These three tasks do (all in `DOMAIN`, SST-2's `sentence<TAB>label` TSV with its header):

- the target `world-kind`: is the thing of a sentence `precious` or `plain` (`kinds.THING_KINDS`,
  a hidden class no sentence states)? Its English training set shows only `SEEN_PER_KIND` things
  of each kind; its test sentences use all the domain's things, so without help a model can only
  guess the kind of the others;
- the planted intermediate task `world-planted`: the same kinds of every thing of the domain, asked
  of questions (`who hid the golden key ?`) where the target has statements, so an encoder trained
  on it knows the kinds of the things the target never showed: in English, and in another language
  as far as its words for them are English's or aligned by pre-training (`benchmarks/world_truth.py`
  measures how far);
- the control `world-control`: the same sentences, size and format, labelled with the class of
  the verb (`kinds.VERB_CLASSES`), which no target uses: its true gain is zero.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from pathlib import Path

from lightning_xfer.synthetic.world import World
from lightning_xfer.synthetic.world.files import as_lines
from lightning_xfer.synthetic.world.grammar import DOMAINS, Fact, random_fact
from lightning_xfer.synthetic.world.kinds import THING_KINDS, VERB_CLASSES, WordClasses
from lightning_xfer.synthetic.world.realize import Saying, Speaker, Word, text
from lightning_xfer.synthetic.world.splits import write_splits

DOMAIN = "fiction"
"""Every planted task trains here (household things: what makes a lamp precious is the world's secret)."""
SEEN_PER_KIND = 2
"""Things of each kind in the target's training set: 4 of the domain's 10, the other 6 only in its test."""
HEADER = "sentence\tlabel"
"""SST-2's header row: the reader finds the columns by name."""


@dataclass(frozen=True)
class Question:
    """A question about a fact that keeps its thing in the sentence (who, where or when)."""

    fact: Fact
    asked: str

    def words(self, speaker: Speaker) -> list[Word]:
        return speaker.question(self.fact, self.asked)


def about(rng: random.Random, domain: str, things: tuple[str, ...]) -> Fact:
    """A fact of `domain` whose thing is one of `things`."""
    return dataclasses.replace(random_fact(rng, DOMAINS[domain]), thing=rng.choice(things))


def statement(rng: random.Random, fact: Fact) -> Saying:
    """The target's sentences: a statement (most often), a negation or a sequel; each names the thing."""
    draw = rng.random()
    if draw < 0.7:
        return Saying("statement", fact, place=rng.random() < 0.8, day=rng.random() < 0.7)
    return Saying("negation" if draw < 0.85 else "sequel", fact)


def question(rng: random.Random, fact: Fact) -> Question:
    """The intermediate tasks' sentences: who, where or when, never `what` (which leaves the thing out)."""
    return Question(fact, rng.choice(["agent", "place", "day"] if fact.day else ["agent", "place"]))


def render(speaker: Speaker, examples: list[tuple[Saying | Question, str]], split: str) -> str:
    return as_lines([HEADER, *(f"{text(sentence.words(speaker))}\t{label}" for sentence, label in examples)])


def write_kind(world: World, directory: Path) -> None:
    """The target: train and dev name only the seen things; test, in every language, all of them.

    Examples come in pairs, one of each kind, so every split is balanced exactly: a model that says
    one kind of everything (as one does in a language it cannot read) scores 50, whichever kind."""
    kinds = {domain: THING_KINDS.classes(world, domain) for domain in DOMAINS}
    seen = THING_KINDS.some_of_each(world, DOMAIN, SEEN_PER_KIND)

    def pair(rng: random.Random, domain: str, things: tuple[str, ...] | None = None) -> list[tuple[Saying, str]]:
        examples = []
        for kind in rng.sample(THING_KINDS.labels, 2):
            fact = about(rng, domain, tuple(t for t in things or DOMAINS[domain].things if kinds[domain][t] == kind))
            examples.append((statement(rng, fact), kind))
        return examples

    def render_pairs(speaker: Speaker, pairs: list[list[tuple[Saying, str]]], split: str) -> str:
        return render(speaker, [example for two in pairs for example in two], split)

    write_splits(world, directory, "kind", DOMAIN, "tsv", lambda rng, domain: pair(rng, domain, seen), render_pairs,
                 per_example=2, draw_test=pair)  # fmt: skip


def _write_classes(world: World, directory: Path, name: str, classes: WordClasses) -> None:
    """English questions about facts of any of the domain's things, labelled with a word's class."""
    classed = {domain: classes.classes(world, domain) for domain in DOMAINS}

    def draw(rng: random.Random, domain: str) -> tuple[Question, str]:
        fact = about(rng, domain, DOMAINS[domain].things)
        return question(rng, fact), classed[domain][getattr(fact, classes.slot)]

    write_splits(world, directory, name, DOMAIN, "tsv", draw, render)


def write_planted(world: World, directory: Path) -> None:
    """The planted intermediate task: the kind of every thing (what `world-kind` needs)."""
    _write_classes(world, directory, "planted", THING_KINDS)


def write_control(world: World, directory: Path) -> None:
    """The control: the class of the verb (what no target needs), on the planted task's sentences."""
    _write_classes(world, directory, "planted", VERB_CLASSES)
