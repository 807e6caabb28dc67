"""The embedded world's generator: deterministic, its languages differ as configured, and every file
it writes reads through the real readers with gold answers where they should be."""

import re
import unicodedata
from pathlib import Path

import pytest

from lightning_xfer.languages import language
from lightning_xfer.readers.dispatch import read_pair_file, read_qa_file, read_tagging_file
from lightning_xfer.readers.english_tasks import read_hellaswag
from lightning_xfer.readers.tatoeba import read_tatoeba
from lightning_xfer.synthetic.world import WORLD, Sizes, World, choice, corpus, nli, planted, qa, retrieval, tagging
from lightning_xfer.synthetic.world.grammar import lexicon_words, loanwords
from lightning_xfer.synthetic.world.languages import SCRIPTS, lexicon, transliterate

SMALL = World(sizes=Sizes(train=60, validation=20, test=40))
WRITERS = (nli.write_nli, tagging.write_pos, tagging.write_ner, qa.write_qa, choice.write_choice,
           retrieval.write_retrieval, corpus.write_corpus, planted.write_kind, planted.write_planted,
           planted.write_control)  # fmt: skip


def written(world: World, root: Path) -> dict[str, bytes]:
    files = {}
    for write in WRITERS:
        directory = root / write.__name__
        directory.mkdir(parents=True)
        write(world, directory)
        files |= {f"{write.__name__}/{p.name}": p.read_bytes() for p in sorted(directory.iterdir())}
    return files


def test_the_same_seed_writes_the_same_bytes_and_another_seed_other_ones(tmp_path):
    first, again = written(SMALL, tmp_path / "a"), written(SMALL, tmp_path / "b")
    assert first == again and len(first) > 100
    other = written(World(seed=1, sizes=SMALL.sizes), tmp_path / "c")
    assert first.keys() == other.keys()
    assert sum(first[name] != other[name] for name in first) > 0.9 * len(first)
    assert SMALL.fingerprint != World(seed=1, sizes=SMALL.sizes).fingerprint


def test_each_language_shares_exactly_its_configured_share_of_words_and_writes_the_rest_in_its_script():
    words, borrowed = lexicon_words(), loanwords()
    own = [w for w in words if w not in borrowed]
    for lang in WORLD.languages[1:]:
        forms = lexicon(lang, WORLD.seed)
        shared = sum(forms[w] == w for w in own) / len(own)
        assert shared == pytest.approx(lang.shared_words, abs=1 / len(own)), lang.code
        assert all(forms[w] == transliterate(w, lang.script) for w in borrowed), lang.code  # a loanword everywhere
        assert len(set(forms.values())) == len(words), f"{lang.code}: two words share a form"
        letters = {c for w in words if forms[w] != w for c in forms[w]}
        if lang.script == "Latin":
            assert letters <= set("abcdefghijklmnopqrstuvwxyz")
        else:
            assert letters <= set(SCRIPTS[lang.script].values()), lang.code
            assert all(unicodedata.name(c).startswith(lang.script.upper()) for c in letters)


def token_overlap(english: list[str], other: list[str]) -> float:
    """Share of the language's word tokens that are also English word types (digits and punctuation out)."""
    english_types = {w for line in english for w in line.split()}
    tokens = [w for line in other for w in line.split() if not re.fullmatch(r"[\d.,?]+", w)]
    return sum(w in english_types for w in tokens) / len(tokens)


def test_measured_overlap_with_english_follows_the_configuration():
    text = {code: corpus.pretraining_lines(WORLD, code, 300, "test") for code in WORLD.codes}
    overlap = {code: token_overlap(text["en"], text[code]) for code in WORLD.codes[1:]}
    # The same words are shared at the same share whatever the tier or word order; Latin names and
    # loanwords add to it.
    assert overlap["qf"] == pytest.approx(overlap["qa"], abs=0.03) == overlap["qd"]
    assert overlap["qg"] == pytest.approx(overlap["qb"], abs=0.03) == overlap["qi"]
    assert overlap["qa"] > overlap["qb"] + 0.1 > 0.1
    assert overlap["qc"] == overlap["qe"] == overlap["qh"] == 0.0  # other scripts: names and loanwords transliterated


def verb_positions(path: Path) -> tuple[float, float]:
    """Shares of statements whose verb is their first word, and their last word before the full stop."""
    first = last = total = 0
    for sentence in read_tagging_file(path, ""):
        tags = sentence["tags"]
        if tags.count("VERB") != 1 or tags[-1] != "PUNCT" or "ADV" in tags or "AUX" in tags:
            continue  # statements only: no negation, sequel or presence sentence
        total += 1
        first += tags[0] == "VERB"
        last += tags[-2] == "VERB"
    return first / total, last / total


def test_word_order_is_as_configured(tmp_path):
    tagging.write_pos(SMALL, tmp_path)
    for lang in WORLD.languages:
        first, last = verb_positions(tmp_path / f"test-fiction-{lang.code}.tsv")
        assert (first, last) == {"SVO": (0.0, 0.0), "SOV": (0.0, 1.0), "VSO": (1.0, 0.0)}[lang.order], lang.code


def test_the_tiers_are_in_the_language_table_with_their_corpus_sizes():
    high, low = language("qa"), language("qf")
    assert (high.resource_tier, low.resource_tier, language("qd").resource_tier) == ("high", "low", "mid")
    assert high.cc100_gib == pytest.approx(20 * low.cc100_gib, rel=0.1)  # 8,000 vs 400 sentences
    assert language("qc").script == "Cyrillic" and language("qd").family == "world SOV"


def test_every_file_reads_through_the_benchmarks_readers_with_gold_answers(tmp_path):
    written(SMALL, tmp_path)
    pairs = read_pair_file(tmp_path / "write_nli" / "test-news-qc.tsv", "qc")
    assert len(pairs) == 40 and {p["label"] for p in pairs} <= set(nli.LABELS)
    tags = read_tagging_file(tmp_path / "write_ner" / "train-news-en.tsv", "en")  # NER's training domain
    assert len(tags) == 60 and any("B-PER" in s["tags"] for s in tags)
    for code in WORLD.codes:
        questions = read_qa_file(tmp_path / "write_qa" / f"test-fiction-{code}.json", code)
        assert len(questions) == 40
        for q in questions:
            start, answer = q["answers"]["answer_start"][0], q["answers"]["text"][0]
            assert q["context"][start : start + len(answer)] == answer and q["context"].count(answer) == 1
    stories = read_hellaswag(tmp_path / "write_choice" / "test-news-qh.jsonl", "qh")
    assert len(stories) == 40 and all(len(s["choices"]) == 4 for s in stories)
    assert len({s["label"] for s in stories}) == 4
    assert len(read_tatoeba(tmp_path / "write_retrieval" / "tatoeba.qe-eng.qe", "qe")) == 80
    lines = (tmp_path / "write_corpus" / "train.txt").read_text().count("\n")
    assert lines == sum(lang.pretraining_sentences for lang in SMALL.languages)


def test_the_same_examples_are_said_in_every_language(tmp_path):
    nli.write_nli(SMALL, tmp_path)
    labels = {code: [p["label"] for p in read_pair_file(tmp_path / f"test-fiction-{code}.tsv", code)]
              for code in WORLD.codes}  # fmt: skip
    assert all(labels[code] == labels["en"] for code in WORLD.codes)
    english = read_pair_file(tmp_path / "test-fiction-en.tsv", "en")[0]["text"]
    names = [w for w in english.split() if w[0].isupper()]
    assert all(name in read_pair_file(tmp_path / "test-fiction-qa.tsv", "qa")[0]["text"] for name in names)


def test_a_changed_world_writes_its_cached_files_again(tmp_path, monkeypatch):
    import dataclasses

    from lightning_xfer.data.sources import data_directory
    from lightning_xfer.synthetic.world import WorldWriter
    from lightning_xfer.tasks import TaskConfig, get_task

    monkeypatch.setenv("LIGHTNING_XFER_CACHE", str(tmp_path))
    task = get_task("world-retrieval")
    directory = data_directory(task, TaskConfig(task.name))
    first = (directory / "tatoeba.qa-eng.qa").read_text()
    assert data_directory(task, TaskConfig(task.name)) == directory  # cached: not written again
    other = dataclasses.replace(task, generator=WorldWriter(retrieval.write_retrieval, World(seed=3)))
    assert data_directory(other, TaskConfig(task.name)) == directory
    assert (directory / "tatoeba.qa-eng.qa").read_text() != first
    assert (directory / ".generated").read_text() == other.generator.fingerprint


def test_the_report_rank_correlates_each_languages_gap_with_the_factors_it_was_made_with():
    import pandas as pd

    from lightning_xfer.analysis.world import factor_sentences

    factors = pd.DataFrame({
        "language": ["qa", "qb", "qh"], "tier": ["high", "high", "low"], "pretraining_sentences": [8000, 8000, 400],
        "shared_words": [0.5, 0.2, 0.0], "cognates": [0.5, 0.3, 0.0], "order": ["SVO"] * 3,
        "script": ["Latin", "Latin", "Georgian"], "gap_none": [2.0, 9.0, 60.0], "gain_world-qa": [3.0, 1.0, -1.0],
    })  # fmt: skip
    gap, gain = factor_sentences(factors)
    # Ranks: shared words 3, 2, 1 against gaps 1, 2, 3; text 2.5, 2.5, 1 (a tie) against 1, 2, 3.
    # Three languages are too few for an interval, and the sentence says so instead of reading a trend.
    none = "(no interval: too few languages)"
    assert "the transfer gap without intermediate training has Spearman rank correlation (95% interval, languages " \
           f"as the sample; a description, not a claim) shared words -1.00 {none}, pre-training text -0.87 {none}" \
           in gap  # fmt: skip
    assert "smallest qa (+2.0: high resource, 50% shared words, SVO, Latin), largest qh (+60.0" in gap
    assert f"shared words +1.00 {none}, pre-training text +0.87 {none}" in gain
