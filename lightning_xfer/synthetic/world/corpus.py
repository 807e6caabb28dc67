"""The pre-training corpus: every language's text, as much of each as its tier allows.

`train.txt` mixes the languages (shuffled) with `pretraining_sentences` sentences of each, as an
imbalanced web crawl would; `test-{lang}.txt` holds the same number of unseen sentences for every
language, so masked-token accuracy per language measures what pre-training gave it. The sentences
take every shape the tasks use (statements, questions, presence, negation, sequels) in both
domains, so no task's words are new to the encoder, only the tasks themselves.
"""

from __future__ import annotations

import random
from pathlib import Path

from lightning_xfer.synthetic.world import World
from lightning_xfer.synthetic.world.files import as_lines, write_text
from lightning_xfer.synthetic.world.grammar import DOMAINS, random_fact
from lightning_xfer.synthetic.world.realize import Speaker, Word, text

TEST_SENTENCES = 200
"""Held-out sentences per language for masked-token accuracy."""


def sentence(speaker: Speaker, rng: random.Random) -> list[Word]:
    """One sentence of any shape, in either domain."""
    fact = random_fact(rng, DOMAINS[rng.choice(sorted(DOMAINS))])
    draw = rng.random()
    if draw < 0.65:
        return speaker.statement(fact, place=rng.random() < 0.8, day=rng.random() < 0.8)
    if draw < 0.8:
        return speaker.question(fact, rng.choice(["agent", "thing", "place", "day"] if fact.day else
                                                 ["agent", "thing", "place"]))  # fmt: skip
    if draw < 0.87:
        return speaker.presence(fact)
    if draw < 0.94:
        return speaker.negation(fact)
    return speaker.sequel(fact)


def pretraining_lines(world: World, code: str, count: int, purpose: str) -> list[str]:
    """`count` sentences in language `code`, drawn with the world's seed for `purpose` (train, test)."""
    rng = random.Random(f"{world.seed}:corpus:{purpose}:{code}")
    speaker = world.speaker(code)
    return [text(sentence(speaker, rng)) for _ in range(count)]


def write_corpus(world: World, directory: Path) -> None:
    """`train.txt` (all languages, imbalanced, shuffled) and `test-{lang}.txt` (equal, held out)."""
    lines = []
    for language in world.languages:
        lines += pretraining_lines(world, language.code, language.pretraining_sentences, "train")
        write_text(directory / f"test-{language.code}.txt", as_lines(
                   pretraining_lines(world, language.code, TEST_SENTENCES, "test")))  # fmt: skip
    random.Random(f"{world.seed}:corpus:shuffle").shuffle(lines)
    write_text(directory / "train.txt", as_lines(lines))


def corpus_bytes(world: World, code: str) -> int:
    """Bytes (UTF-8, with newlines) of language `code`'s text in the pre-training corpus."""
    lines = pretraining_lines(world, code, world.language(code).pretraining_sentences, "train")
    return sum(len(line.encode()) + 1 for line in lines)


def tokenizer_corpus(world: World) -> list[str]:
    """The text a world encoder's tokenizer is trained on: the pre-training corpus itself (as XLM-R's
    SentencePiece model was trained on CC-100), so a low-resource language gets fewer pieces."""
    return [line for lang in world.languages
            for line in pretraining_lines(world, lang.code, lang.pretraining_sentences, "train")]  # fmt: skip
