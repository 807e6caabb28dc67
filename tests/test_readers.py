"""The readers on the benchmarks' real files, and their errors on broken ones."""

import json

import pytest
from conftest import shared

from lightning_xfer.data.sources import load_split
from lightning_xfer.errors import DataFormatError
from lightning_xfer.readers.conllu import read_conllu
from lightning_xfer.readers.dispatch import read_qa_file
from lightning_xfer.readers.sentence_pair_tsv import read_sentence_pair_tsv
from lightning_xfer.readers.squad_json import read_squad_json
from lightning_xfer.readers.token_tsv import read_token_tsv
from lightning_xfer.tasks import get_task
from lightning_xfer.tasks.config import TaskConfig

XQUAD_LANGUAGES = ["ar", "de", "el", "en", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh"]


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


# Broken files and the errors they give (file, line, what was expected): tests/test_bad_input.py.


def write_squad(path, qas, context="Ann came home."):
    path.write_text(json.dumps({"data": [{"title": "t", "paragraphs": [{"context": context, "qas": qas}]}]}))
    return path


def ann(question_id="q1", **answer):
    return {"id": question_id, "question": "Who?", "answers": [{"text": "Ann", "answer_start": 0, **answer}]}


def test_unanswerable_squad_v2_question_is_not_an_unlabelled_one(tmp_path):
    impossible = {"id": "q2", "question": "Why?", "answers": [], "is_impossible": True}
    examples = read_squad_json(write_squad(tmp_path / "s.json", [ann(), impossible]))
    assert [e["answers"]["text"] for e in examples] == [["Ann"], []]


def test_qa_file_without_answers_is_an_error_where_the_split_is_scored(tmp_path):
    """A question without answers used to be scored with "" as its gold answer."""
    write_squad(tmp_path / "xquad.de.json", [ann(), {"id": "q2", "question": "Why?"}])
    config = TaskConfig("xquad", data_dir=str(tmp_path), languages=["de"])
    with pytest.raises(DataFormatError, match=f"^{tmp_path}/xquad.de.json: question q2 has no gold answer"):
        load_split(get_task("xquad"), config, "test", "de")
    # `predict` on a test set whose answers are not public reads it all the same.
    examples = load_split(get_task("xquad"), config, "test", "de", labelled=False).examples
    assert [e["answers"]["text"] for e in examples] == [["Ann"], []]


def test_saved_qa_dataset_is_checked_like_json(tmp_path):
    import datasets

    row = {"id": "q1", "context": "Ann came home.", "question": "Who?"}
    row["answers"] = {"text": ["Ann"], "answer_start": [0]}
    shifted = {**row, "id": "q2", "answers": {"text": ["Ann"], "answer_start": [1]}}
    datasets.Dataset.from_list([row, shifted]).save_to_disk(tmp_path / "bad-start")
    with pytest.raises(DataFormatError, match="question q2: answer 'Ann' is not at answer_start 1"):
        read_qa_file(tmp_path / "bad-start", "de")
    datasets.Dataset.from_list([row, row]).save_to_disk(tmp_path / "twice")
    with pytest.raises(DataFormatError, match="question id q1 appears twice"):
        read_qa_file(tmp_path / "twice", "de")
    unpaired = {**row, "answers": {"text": ["Ann", "Ann"], "answer_start": [0]}}
    datasets.Dataset.from_list([unpaired]).save_to_disk(tmp_path / "unpaired")
    with pytest.raises(DataFormatError, match=r"question q1: .* do not pair up; expected one integer answer_start per"):
        read_qa_file(tmp_path / "unpaired", "de")


def test_every_official_squad_format_file_loads():
    """Every answer of the official files is exactly at its answer_start; no id repeats."""
    counts = {"squad-dev": len(read_squad_json(shared("intermediate", "squad", "dev-v1.1.json")))}
    for path in sorted(shared("xquad").glob("xquad.*.json")):
        counts[path.name] = len(read_squad_json(path))
    for path in sorted(shared("tydiqa_goldp").glob("*.json")):
        counts[path.name] = len(read_squad_json(path))
    counts["mlqa-de"] = len(read_qa_file(shared("mlqa_de", "validation"), "de"))
    assert counts["squad-dev"] == 10570 and counts["mlqa-de"] == 512
    assert [counts[f"xquad.{lang}.json"] for lang in XQUAD_LANGUAGES] == [1190] * 12
    assert sum(n for name, n in counts.items() if "tydiqa" in name) == 5077
