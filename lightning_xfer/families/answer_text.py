"""A span-QA answer's text as XTREME's `run_squad.py` extracts it (transformers 2.x's
`compute_predictions_logits` and `get_final_text`).

There, a context is split into whitespace-separated words (`processors/squad.py`), and a predicted
sub-word span is turned back into text in three steps: the span's sub-words joined into a string
(`convert_tokens_to_string`: SentencePiece's normalised pieces for XLM-R); the whole words that
hold the span, joined by single spaces; and `get_final_text`, which finds the first in the second
after BERT's basic tokenisation and maps the match back onto the words' characters. When that
projection fails, it returns the *whole words*. It fails whenever the basic tokenisation adds
spaces the span lacks: around every CJK character, so a Chinese answer of two or more characters
comes back as its whole whitespace-delimited chunk (often a clause or a sentence), and wherever
SentencePiece's NFKC normalisation changed a character (full-width digits and punctuation). Published
zh (and ja, th) QA scores are measured on those chunks.

`characters` (the project's choice) slices the original context at the span's character offsets.
"""

from __future__ import annotations

import unicodedata

_SQUAD_WHITESPACE = {" ", "\t", "\r", "\n", "\u202f"}  # processors/squad.py's _is_whitespace
_CJK = (
    (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F),
)  # fmt: skip


def whitespace_words(context: str) -> tuple[list[str], list[int]]:
    """The context's words and, per character, the index of its word (a space: the word before it)."""
    words: list[str] = []
    word_of: list[int] = []
    after_space = True
    for character in context:
        if character in _SQUAD_WHITESPACE:
            after_space = True
        else:
            if after_space:
                words.append(character)
            else:
                words[-1] += character
            after_space = False
        word_of.append(len(words) - 1)
    return words, word_of


def xtreme_answer_text(context: str, start: int, end: int, words=None) -> str:
    """The answer XTREME reads for the context characters [start, end) of a predicted span."""
    words, word_of = words or whitespace_words(context)
    # XTREME's sub-words never hold white space (each word is tokenised alone); a fast tokenizer's
    # offsets may include the space before a SentencePiece word.
    while start < end and context[start] in _SQUAD_WHITESPACE:
        start += 1
    while end > start and context[end - 1] in _SQUAD_WHITESPACE:
        end -= 1
    if start == end:
        return ""
    first, last = max(word_of[start], 0), max(word_of[max(end - 1, start)], 0)
    original = " ".join(words[first : last + 1])
    # XLM-R's pieces are NFKC-normalised text; convert_tokens_to_string, then run_squad's clean-up.
    predicted = " ".join(unicodedata.normalize("NFKC", context[start:end]).split())
    return final_text(predicted, original)


def final_text(predicted: str, original: str) -> str:
    """`get_final_text` (do_lower_case off, as for XLM-R): `predicted` projected onto `original`'s
    characters through BERT's basic tokenisation, or `original` whole when that fails."""
    tokenized = " ".join(basic_tokens(original))
    at = tokenized.find(predicted)
    if at < 0 or not predicted:
        return original
    original_plain, original_at = _without_spaces(original)
    tokenized_plain, tokenized_at = _without_spaces(tokenized)
    if len(original_plain) != len(tokenized_plain):
        return original
    plain_of = {position: plain for plain, position in enumerate(tokenized_at)}
    start, end = plain_of.get(at), plain_of.get(at + len(predicted) - 1)
    if start is None or end is None:
        return original
    return original[original_at[start] : original_at[end] + 1]


def _without_spaces(text: str) -> tuple[str, list[int]]:
    """`text` without its spaces, and each kept character's position in `text`."""
    kept = [(c, i) for i, c in enumerate(text) if c != " "]
    return "".join(c for c, _ in kept), [i for _, i in kept]


def basic_tokens(text: str) -> list[str]:
    """BERT's `BasicTokenizer` without lower-casing, as transformers 2.x has it: control characters
    dropped, white space as a space, a space around every CJK character, punctuation split off."""
    cleaned = []
    for character in text:
        code = ord(character)
        if code == 0 or code == 0xFFFD or _is_control(character):
            continue
        if _is_whitespace(character):
            cleaned.append(" ")
        elif any(low <= code <= high for low, high in _CJK):
            cleaned.append(f" {character} ")
        else:
            cleaned.append(character)
    tokens = []
    for word in "".join(cleaned).split():
        piece = ""
        for character in word:
            if _is_punctuation(character):
                tokens.extend([piece] if piece else [])
                tokens.append(character)
                piece = ""
            else:
                piece += character
        tokens.extend([piece] if piece else [])
    return tokens


def _is_whitespace(character: str) -> bool:
    return character in " \t\n\r" or unicodedata.category(character) == "Zs"


def _is_control(character: str) -> bool:
    return character not in "\t\n\r" and unicodedata.category(character).startswith("C")


def _is_punctuation(character: str) -> bool:
    code = ord(character)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True  # ASCII symbols count as punctuation, as BERT treats them
    return unicodedata.category(character).startswith("P")
