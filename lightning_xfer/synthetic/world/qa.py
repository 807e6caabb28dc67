"""Extractive QA in the world (SQuAD / XQuAD's shape): a question whose answer is a span of a paragraph.

A paragraph states three facts of one domain about different agents, things and places, so each
question (who, what, where, when) has exactly one answer: the words that play the asked role in
the fact the question is about. Files are SQuAD v1.1 JSON in the layout of `splits.py`, trained
in `TRAIN_DOMAIN` (ids are shared across languages, as XQuAD's are).
"""

from __future__ import annotations

import random
from pathlib import Path

from lightning_xfer.synthetic.world import World
from lightning_xfer.synthetic.world.files import as_json
from lightning_xfer.synthetic.world.grammar import DOMAINS, Fact, random_fact
from lightning_xfer.synthetic.world.realize import Speaker, text
from lightning_xfer.synthetic.world.splits import write_splits

TRAIN_DOMAIN = "news"
FACTS_PER_PARAGRAPH = 3
QUESTIONS_PER_PARAGRAPH = 2


def paragraph_facts(rng: random.Random, domain: str) -> list[Fact]:
    """Facts with pairwise different agents, things and places, so every question has one answer."""
    while True:
        facts = [random_fact(rng, DOMAINS[domain]) for _ in range(FACTS_PER_PARAGRAPH)]
        if all(len({getattr(f, slot) for f in facts}) == len(facts) for slot in ("agent", "thing", "place")):
            return facts


def questions(rng: random.Random, facts: list[Fact]) -> list[tuple[int, str]]:
    """(which fact, asked role) for each question of a paragraph."""
    chosen = rng.sample(range(len(facts)), QUESTIONS_PER_PARAGRAPH)
    roles = ["agent", "thing", "place"]
    return [(i, rng.choice([*roles, "day"] if facts[i].day else roles)) for i in chosen]


def paragraph(speaker: Speaker, facts: list[Fact], asked: list[tuple[int, str]], prefix: str) -> dict:
    """One SQuAD paragraph: the context and its questions with answer texts and character offsets."""
    sentences = [speaker.statement(fact) for fact in facts]
    starts, offset = [], 0
    for words in sentences:
        starts.append([])
        for word in words:
            starts[-1].append(offset)
            offset += len(word.text) + 1
    context = " ".join(text(words) for words in sentences)
    qas = []
    for number, (which, role) in enumerate(asked):
        positions = [i for i, word in enumerate(sentences[which]) if word.role == role]
        first, last = positions[0], positions[-1]
        start = starts[which][first]
        answer = context[start : starts[which][last] + len(sentences[which][last].text)]
        qas.append({"id": f"{prefix}-q{number}", "question": text(speaker.question(facts[which], role)),
                    "answers": [{"text": answer, "answer_start": start}]})  # fmt: skip
    return {"context": context, "qas": qas}


def render(speaker: Speaker, items: list[tuple[list[Fact], list[tuple[int, str]]]], split: str) -> str:
    paragraphs = [paragraph(speaker, facts, asked, f"{split}-{i}") for i, (facts, asked) in enumerate(items)]
    return as_json({"version": "lightning_xfer world", "data": [{"title": split, "paragraphs": paragraphs}]})


def item(rng: random.Random, domain: str) -> tuple[list[Fact], list[tuple[int, str]]]:
    """A paragraph's facts and the questions asked about it."""
    facts = paragraph_facts(rng, domain)
    return facts, questions(rng, facts)


def write_qa(world: World, directory: Path) -> None:
    """Split sizes count questions."""
    write_splits(world, directory, "qa", TRAIN_DOMAIN, "json", item, render, per_example=QUESTIONS_PER_PARAGRAPH)
