"""The readers on the benchmarks' real files, and their errors on broken ones."""

import json

import pytest
from conftest import shared

from lightning_xfer.errors import DataFormatError
from lightning_xfer.readers.conllu import read_conllu
from lightning_xfer.readers.dispatch import read_qa_file
from lightning_xfer.readers.sentence_pair_tsv import read_sentence_pair_tsv
from lightning_xfer.readers.squad_json import read_squad_json
from lightning_xfer.readers.token_tsv import read_token_tsv


def test_xquad_has_1190_questions_per_language_with_answers_in_context():
    for language in ("en", "de", "zh", "th"):
        examples = read_squad_json(shared("xquad", f"xquad.{language}.json"))
        assert len(examples) == 1190
        assert len({e["id"] for e in examples}) == 1190
    english = read_squad_json(shared("xquad", "xquad.en.json"))
    # Every English gold answer is where answer_start says it is.
    for e in english:
        for text, start in zip(e["answers"]["text"], e["answers"]["answer_start"], strict=True):
            assert e["context"][start : start + len(text)] == text


def test_tydiqa_goldp_dev_is_5077_questions_over_9_languages():
    names = ["arabic", "bengali", "english", "finnish", "indonesian", "korean", "russian", "swahili", "telugu"]
    counts = {n: len(read_squad_json(shared("tydiqa_goldp", f"{n}_tydiqa_dev.json"))) for n in names}
    assert sum(counts.values()) == 5077
    assert counts["english"] == 440 and counts["bengali"] == 113


def test_mlqa_saved_dataset_reads_as_squad_examples():
    examples = read_qa_file(shared("mlqa_de", "validation"), "de")
    assert len(examples) == 512
    assert set(examples[0]) >= {"id", "context", "question", "answers"}


def test_conllu_equals_xtremes_udpos_file():
    """XTREME's test-en.tsv starts with UD_English-EWT r2.5 test, read as syntactic words."""
    ewt = read_conllu(shared("ud", "en_ewt-ud-test.conllu"))
    xtreme = read_token_tsv(shared("udpos_xtreme", "test-en.tsv"), "en")
    assert len(ewt) == 2077
    assert [(s["tokens"], s["tags"]) for s in ewt] == [(s["tokens"], s["tags"]) for s in xtreme[:2077]]


def test_conllu_skips_multiword_ranges_and_empty_nodes(tmp_path):
    path = tmp_path / "x.conllu"
    path.write_text(
        "# sent_id = s1\n1-2\tzum\t_\t_\t_\t_\t_\t_\t_\t_\n1\tzu\tzu\tADP\t_\t_\t0\t_\t_\t_\n"
        "2\tdem\tder\tDET\t_\t_\t1\t_\t_\t_\n2.1\tx\tx\tVERB\t_\t_\t_\t_\t_\t_\n3\tHaus\tHaus\tNOUN\t_\t_\t1\t_\t_\t_\n\n"
    )
    assert read_conllu(path) == [{"id": "s1", "tokens": ["zu", "dem", "Haus"], "tags": ["ADP", "DET", "NOUN"]}]


def test_panx_tsv_sentences_and_language_prefix(tmp_path):
    examples = read_token_tsv(shared("panx_xtreme", "test-de.tsv"), "de")
    assert len(examples) == 10000
    assert all(len(e["tokens"]) == len(e["tags"]) for e in examples)
    prefixed = tmp_path / "p.tsv"
    prefixed.write_text("de:Berlin\tB-LOC\nde:ist\tO\n\n")
    assert read_token_tsv(prefixed, "de")[0]["tokens"] == ["Berlin", "ist"]


def test_sentence_pair_tsv_with_and_without_header():
    pawsx = read_sentence_pair_tsv(shared("pawsx_de", "test.tsv"))
    assert len(pawsx) == 2000 and {e["label"] for e in pawsx} == {"0", "1"}
    assert pawsx[0]["id"].isdigit()  # the file's own id column
    xnli = read_sentence_pair_tsv(shared("xnli_de", "test.txt"))
    assert len(xnli) == 5010
    assert {e["label"] for e in xnli} == {"entailment", "neutral", "contradiction"}


@pytest.mark.parametrize(
    ("name", "content", "reader", "line"),
    [
        ("bad.tsv", "a\tb\tc\td\nx\n", lambda p: read_token_tsv(p), 1),
        ("bad.conllu", "1\tword\tlemma\n", read_conllu, 1),
        ("bad.json", '{"data": [', read_squad_json, 1),
        ("short.tsv", "premise\thypothesis\tlabel\nonly one column\n", read_sentence_pair_tsv, 2),
    ],
)
def test_malformed_files_name_file_and_line(tmp_path, name, content, reader, line):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(DataFormatError) as error:
        reader(path)
    assert error.value.path == str(path) and error.value.line == line
    assert "expected" in str(error.value)


def test_squad_answer_outside_context_is_an_error(tmp_path):
    path = tmp_path / "s.json"
    qa = {"id": "q1", "question": "?", "answers": [{"text": "x", "answer_start": 99}]}
    path.write_text(json.dumps({"data": [{"title": "t", "paragraphs": [{"context": "short", "qas": [qa]}]}]}))
    with pytest.raises(DataFormatError, match="q1: answer_start 99 outside its context"):
        read_squad_json(path)
