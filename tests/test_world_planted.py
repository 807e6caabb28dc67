"""The study with a known answer (`lightning_xfer.synthetic.world.planted`): its three tasks are
written in SST-2's format and read by the real reader and catalogue, the planted task teaches the
kind of every thing while the target's training set shows only a few, and the control's labels
say nothing about the kinds."""

from collections import Counter
from pathlib import Path

import pytest

from lightning_xfer.data.sources import load_split
from lightning_xfer.readers.dispatch import read_single_file
from lightning_xfer.synthetic.world import WORLD, Sizes, World, planted
from lightning_xfer.synthetic.world.grammar import DOMAINS
from lightning_xfer.synthetic.world.kinds import THING_KINDS, VERB_CLASSES
from lightning_xfer.tasks import TaskConfig, resolve_task

SMALL = World(sizes=Sizes(train=400, validation=40, test=200))
THINGS = DOMAINS[planted.DOMAIN].things
KINDS = THING_KINDS.classes(WORLD, planted.DOMAIN)
SEEN = set(THING_KINDS.some_of_each(WORLD, planted.DOMAIN, planted.SEEN_PER_KIND))


def things_of(example: dict) -> list[str]:
    return [word for word in example["text"].split() if word in THINGS]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("planted")
    for write in (planted.write_kind, planted.write_planted, planted.write_control):
        (root / write.__name__).mkdir()
        write(SMALL, root / write.__name__)
    return root


def test_the_classes_are_hidden_halves_of_each_domain_drawn_per_world():
    for classes in (THING_KINDS, VERB_CLASSES):
        for domain in DOMAINS:
            counts = Counter(classes.classes(WORLD, domain).values())
            assert sorted(counts.values()) == [len(getattr(DOMAINS[domain], f"{classes.slot}s")) // 2] * 2
    assert THING_KINDS.classes(World(seed=1), planted.DOMAIN) != KINDS
    assert Counter(KINDS[thing] for thing in SEEN) == {"precious": 2, "plain": 2}


def test_every_file_is_sst2_tsv_read_by_the_real_reader(files):
    for task, labels in (("write_kind", THING_KINDS.labels), ("write_planted", THING_KINDS.labels),
                         ("write_control", VERB_CLASSES.labels)):  # fmt: skip
        train = files / task / f"train-{planted.DOMAIN}-en.tsv"
        assert train.read_text().splitlines()[0] == "sentence\tlabel"
        examples = read_single_file(train, "en")
        assert len(examples) == 400 and {e["label"] for e in examples} == set(labels)
        assert all(e["text_pair"] is None for e in examples)
    for code in WORLD.codes:
        assert len(read_single_file(files / "write_kind" / f"test-{planted.DOMAIN}-{code}.tsv", code)) == 200


def test_the_catalogue_reads_the_generated_files(tmp_path, monkeypatch):
    monkeypatch.setenv("LIGHTNING_XFER_CACHE", str(tmp_path))
    for name, split, language in (("world-kind", "test", "qc"), ("world-planted", "train", "en"),
                                  ("world-control", "validation", "en")):  # fmt: skip
        config = TaskConfig(name)
        task = resolve_task(config)
        examples = load_split(task, config, split, language).examples
        assert len(examples) > 100 and {e["label"] for e in examples} == set(task.labels), name
    assert resolve_task(TaskConfig("world-kind")).role == "target"
    assert resolve_task(TaskConfig("world-planted")).role == resolve_task(TaskConfig("world-control")).role


def test_the_target_trains_on_a_few_things_and_is_tested_on_all(files):
    """The signal the planted task carries (the kind of the other things) is absent from the target's
    training set: it names only the seen things; its test names every thing, mostly unseen ones."""
    for split in ("train", "dev"):
        examples = read_single_file(files / "write_kind" / f"{split}-{planted.DOMAIN}-en.tsv", "en")
        named = [things_of(e) for e in examples]
        assert all(len(things) == 1 for things in named)
        assert {things[0] for things in named} == SEEN
        assert all(KINDS[things[0]] == e["label"] for things, e in zip(named, examples, strict=True))
        assert Counter(e["label"] for e in examples) == {kind: len(examples) // 2 for kind in THING_KINDS.labels}
    test = read_single_file(files / "write_kind" / f"test-{planted.DOMAIN}-en.tsv", "en")
    tested = Counter(things_of(e)[0] for e in test)
    assert set(tested) == set(THINGS)
    assert sum(count for thing, count in tested.items() if thing not in SEEN) > 0.5 * len(test)
    assert all(KINDS[things_of(e)[0]] == e["label"] for e in test)
    assert Counter(e["label"] for e in test) == {"precious": 100, "plain": 100}  # saying one kind scores 50


def test_the_planted_task_teaches_every_kind_and_the_control_none(files):
    planted_examples = read_single_file(files / "write_planted" / f"train-{planted.DOMAIN}-en.tsv", "en")
    control = read_single_file(files / "write_control" / f"train-{planted.DOMAIN}-en.tsv", "en")
    assert [e["text"] for e in planted_examples] == [e["text"] for e in control]  # the same sentences
    assert {things_of(e)[0] for e in planted_examples} == set(THINGS)
    assert all(KINDS[things_of(e)[0]] == e["label"] for e in planted_examples)
    # The control's label is independent of the thing's kind: every pair of the two shows up.
    pairs = Counter((KINDS[things_of(p)[0]], c["label"]) for p, c in zip(planted_examples, control, strict=True))
    assert len(pairs) == 4 and min(pairs.values()) > 0.15 * len(control)
    assert all(e["text"].endswith("?") for e in planted_examples)  # questions, where the target has statements
