"""Hand-worked cases for every official metric, including the tricky ones."""

import pytest

from lightning_xfer.errors import UserError
from lightning_xfer.metrics.accuracy import accuracy
from lightning_xfer.metrics.bucc import bucc_scores
from lightning_xfer.metrics.f1 import precision_recall_f1
from lightning_xfer.metrics.masked_lm import masked_token_accuracy
from lightning_xfer.metrics.mlqa import mlqa_scores, mlqa_tokens
from lightning_xfer.metrics.ranking import average_precision_at_20, reciprocal_rank_at_20
from lightning_xfer.metrics.seqeval_chunks import chunk_scores, chunks
from lightning_xfer.metrics.squad import normalize_answer, squad_scores, squad_v2_scores
from lightning_xfer.metrics.token_accuracy import token_accuracy


# --- Exactly the official numbers: Python floats, the official formula and order -------------------
def test_accuracy_is_the_official_float_to_the_last_bit():
    # XTREME: float(correct) / len(predictions) * 100. 3 of 7 is 42.857142857142854 (float32
    # through torchmetrics gave 42.85714328289032); 1 of 3 is 33.33333333333333, where the other
    # order, 100 * 1 / 3, gives 33.333333333333336.
    gold = {str(i): "yes" for i in range(7)}
    predicted = {**gold, "3": "no", "4": "no", "5": "no", "6": "no"}
    assert accuracy(predicted, gold) == {"accuracy": 42.857142857142854}
    assert accuracy({"a": "1", "b": "0", "c": "0"}, {"a": "1", "b": "1", "c": "1"}) == {"accuracy": 33.33333333333333}
    assert accuracy({"a": 0, "b": 1}, {"a": 0, "b": 1}) == {"accuracy": 100.0}
    with pytest.raises(UserError, match="1 of 2 examples have no prediction"):
        accuracy({"a": "1"}, {"a": "1", "b": "0"})


def test_one_f1_formula():
    assert precision_recall_f1(2, 3, 4) == (2 / 3, 0.5, 0.5714285714285715)  # 2pr/(p+r) = 4/7
    assert precision_recall_f1(0, 3, 4) == (0.0, 0.0, 0.0)
    assert precision_recall_f1(0, 0, 0) == (0.0, 0.0, 0.0)  # nothing predicted, nothing gold


def test_mean_reciprocal_rank_divides_before_scaling():
    # Mewsli-X: sum(reciprocal ranks) / count, then x100: ranks 1, none, none -> 33.33333333333333.
    predictions = {"m1": ["Q1"], "m2": ["Q9"], "m3": ["Q9"]}
    assert reciprocal_rank_at_20(predictions, {"m1": "Q1", "m2": "Q2", "m3": "Q3"}) == {"map@20": 33.33333333333333}


def test_lareqa_mean_average_precision_is_numpys_mean():
    # AP@20 of three questions: 1, 1, (1/1 + 0) / 2 = 0.5; np.mean -> 2.5 / 3 = 0.8333333333333334.
    predictions = {"q1": ["a"], "q2": ["b"], "q3": ["c", "x"]}
    references = {"q1": ["a"], "q2": ["b"], "q3": ["c", "d"]}
    assert average_precision_at_20(predictions, references) == {"map@20": 83.33333333333334}


def test_masked_token_and_token_accuracy_divide_before_scaling():
    assert masked_token_accuracy({"a": (1, 2), "b": (0, 1)}, {"a": None, "b": None}) == {"accuracy": 33.33333333333333}
    assert token_accuracy({"s": ["A", "B", "B"]}, {"s": ["A", "A", "A"]}) == {"accuracy": 33.33333333333333}


def test_bucc_f1_exact():
    # 2 of 3 predicted pairs are gold, of 4 gold pairs: P 2/3, R 1/2, F1 4/7.
    predicted = {"pairs": {("d1", "e1"), ("d2", "e2"), ("d3", "e9")}}
    gold = {"pairs": {("d1", "e1"), ("d2", "e2"), ("d3", "e3"), ("d4", "e4")}}
    assert bucc_scores(predicted, gold) == {"f1": 57.14285714285715, "precision": 66.66666666666666, "recall": 50.0}


# --- seqeval 0.0.x chunks ----------------------------------------------------------------------
def test_iob2_entities():
    assert chunks([["B-PER", "I-PER", "O", "B-LOC"]]) == {("PER", 0, 1), ("LOC", 3, 3)}


def test_dangling_inside_tag_opens_an_entity():
    # "O I-PER I-PER": seqeval 0.0.x starts a chunk at an I- that follows O.
    assert chunks([["O", "I-PER", "I-PER", "B-ORG", "I-LOC"]]) == {("PER", 1, 2), ("ORG", 3, 3), ("LOC", 4, 4)}


def test_sentences_do_not_merge_across_the_boundary():
    # Each sentence is followed by an "O", so I-PER at the start of sentence 2 is its own entity.
    assert chunks([["B-PER"], ["I-PER"]]) == {("PER", 0, 0), ("PER", 2, 2)}


def test_upos_runs_of_identical_tags_merge():
    tags = ["DET", "NOUN", "NOUN", "VERB", "ADJ", "ADP"]
    # NOUN NOUN is one chunk; every change of tag ends one and starts another.
    assert chunks([tags]) == {("DET", 0, 0), ("NOUN", 1, 2), ("VERB", 3, 3), ("ADJ", 4, 4), ("ADP", 5, 5)}


def test_upos_tags_starting_with_s_are_singletons():
    # SCONJ and SYM read as "S" (single) position tags: a run of them is a chunk per token.
    assert chunks([["SCONJ", "SCONJ", "SYM"]]) == {("SCONJ", 0, 0), ("SCONJ", 1, 1), ("SYM", 2, 2)}
    # INTJ starts with I, PROPN/PRON with P, so identical neighbours merge.
    assert chunks([["INTJ", "INTJ", "PROPN", "PROPN"]]) == {("INTJ", 0, 1), ("PROPN", 2, 3)}


def test_upos_f1_differs_from_token_accuracy():
    gold = {"s": ["NOUN", "NOUN", "VERB"]}
    predicted = {"s": ["NOUN", "VERB", "VERB"]}
    scores = chunk_scores(predicted, gold)
    # gold chunks {NOUN 0-1, VERB 2}; predicted {NOUN 0, VERB 1-2}: nothing matches exactly.
    assert scores["f1"] == 0.0
    assert scores["token_accuracy"] == 66.66666666666666


def test_entity_precision_recall_f1():
    gold = {"1": ["B-PER", "I-PER", "O", "B-LOC"], "2": ["B-ORG", "O"]}
    predicted = {"1": ["B-PER", "I-PER", "O", "O"], "2": ["B-ORG", "B-ORG"]}
    scores = chunk_scores(predicted, gold)
    # correct: PER, ORG; predicted 3 chunks; gold 3 chunks: 2/3 * 100 = 66.66666666666666
    assert scores == {
        "f1": 66.66666666666666,
        "precision": 66.66666666666666,
        "recall": 66.66666666666666,
        "token_accuracy": 66.66666666666666,  # 4 of 6 tags
    }


def test_all_outside_scores_zero_not_an_error():
    assert chunk_scores({"a": ["O", "O"]}, {"a": ["O", "O"]})["f1"] == 0.0


def test_length_mismatch_is_an_error():
    with pytest.raises(UserError, match="example a: 1 predicted tags for 2 tokens"):
        chunk_scores({"a": ["O"]}, {"a": ["O", "O"]})


# --- SQuAD and MLQA ------------------------------------------------------------------------------
def test_squad_normalisation():
    assert normalize_answer("The  Eiffel-Tower!") == "eiffeltower"
    assert normalize_answer("an apple, a pear") == "apple pear"
    # Only ASCII punctuation: the SQuAD script keeps « » and ¿ (MLQA removes them).
    assert normalize_answer("«París»") == "«parís»"


def test_squad_em_f1_best_over_golds():
    scores = squad_scores({"q": "the Eiffel Tower"}, {"q": ["Tower", "Eiffel Tower in Paris"]})
    assert scores["exact_match"] == 0.0
    # vs "eiffel tower in paris": overlap 2, precision 1, recall 0.5 -> F1 2/3
    assert scores["f1"] == 66.66666666666666


def test_empty_prediction_scores_zero_in_v1_and_counts_in_v2():
    assert squad_scores({"q": ""}, {"q": ["Paris"]}) == {"exact_match": 0.0, "f1": 0.0}
    assert squad_v2_scores({"q": "", "r": "x"}, {"q": [], "r": []}) == {"exact_match": 50.0, "f1": 50.0}


def test_squad_v2_drops_gold_answers_that_normalise_to_nothing():
    # The v2.0 script keeps only gold answers whose normalised text is not empty: "The" and "?!"
    # are dropped, so an empty prediction no longer matches them...
    assert squad_v2_scores({"q": ""}, {"q": ["The", "Paris"]}) == {"exact_match": 0.0, "f1": 0.0}
    assert squad_v2_scores({"q": "Paris"}, {"q": ["?!", "Paris"]}) == {"exact_match": 100.0, "f1": 100.0}
    # ... and a question left with none has the gold answer "", which an empty prediction matches.
    assert squad_v2_scores({"q": "", "r": "a"}, {"q": ["the"], "r": ["?!"]}) == {"exact_match": 100.0, "f1": 100.0}
    assert squad_v2_scores({"q": "Paris"}, {"q": ["the"]}) == {"exact_match": 0.0, "f1": 0.0}


def test_mlqa_unicode_punctuation_and_articles():
    assert mlqa_tokens("«Der Eiffelturm» — in Paris.", "de") == ["eiffelturm", "in", "paris"]
    assert mlqa_tokens("¿El museo?", "es") == ["museo"]
    assert mlqa_tokens("the answer", "hi") == ["the", "answer"]  # no Hindi articles


def test_mlqa_chinese_is_scored_by_character():
    assert mlqa_tokens("北京大学，2008年", "zh") == ["北", "京", "大", "学", "2008", "年"]
    scores = mlqa_scores({"q": "北京大学"}, {"q": ["北京"]}, "zh")
    # 2 of 4 predicted characters match both gold characters: P 0.5, R 1 -> F1 2/3
    assert scores == {"exact_match": 0.0, "f1": 66.66666666666666}


def test_mlqa_arabic_removes_every_al():
    assert mlqa_tokens("الكتاب في المكتبة", "ar") == ["كتاب", "في", "مكتبة"]
    assert mlqa_scores({"q": "المكتبة"}, {"q": ["مكتبة"]}, "ar")["exact_match"] == 100.0


def test_mlqa_unknown_language():
    with pytest.raises(UserError, match="MLQA scoring knows languages"):
        mlqa_tokens("x", "fr")
