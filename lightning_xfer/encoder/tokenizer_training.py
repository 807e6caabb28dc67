"""Train an XLM-R-style SentencePiece/Unigram tokenizer offline with `tokenizers`.

The presets need a tokenizer that behaves like XLM-R's (Metaspace pre-tokenisation, `<s> A </s>
</s> B </s>` pairs, the same special-token ids) without the hub. Training is repeatable: the
Unigram trainer returns the same pieces and scores every time but in an order and with float
noise that vary between runs, so the vocabulary is put in a canonical order before use.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>")  # ids 0..3, as in XLM-R
MASK_TOKEN = "<mask>"  # last id, as in XLM-R

# Letters of the scripts in XTREME, so real text in these scripts is not all <unk>. CJK and
# Hangul syllables are left out: thousands of characters would swamp a small vocabulary.
_SCRIPT_RANGES = (
    (0x0021, 0x007E),  # ASCII
    (0x00C0, 0x017F),  # Latin-1 letters, Latin Extended-A
    (0x0370, 0x03FF),  # Greek
    (0x0400, 0x04FF),  # Cyrillic
    (0x05D0, 0x05EA),  # Hebrew letters
    (0x0620, 0x064A),  # Arabic letters
    (0x0900, 0x097F),  # Devanagari
    (0x0980, 0x09FF),  # Bengali
    (0x0B80, 0x0BFF),  # Tamil
    (0x0C00, 0x0C7F),  # Telugu
    (0x0E01, 0x0E5B),  # Thai
    (0x10D0, 0x10FA),  # Georgian
)


def script_alphabet() -> list[str]:
    """Characters every preset tokenizer knows, whatever text it was trained on."""
    return [chr(c) for start, end in _SCRIPT_RANGES for c in range(start, end + 1) if chr(c).isprintable()]


@dataclass(frozen=True)
class Conventions:
    """Which special tokens a family's tokenizer adds around a text and a pair, and whether it has
    a padding token, so a tiny preset tokenizes as its family's real tokenizer does."""

    single: str
    """`TemplateProcessing` template of one text (`<s> $A </s>`; `$A` for no special tokens)."""
    pair: str
    """Template of a text pair."""
    has_pad: bool = True
    """False for tokenizers that ship without one (Llama-family): the loader then sets one."""


XLM_R = Conventions(single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>")
T5 = Conventions(single="$A </s>", pair="$A </s> $B </s>")  # mT5: an end-of-sequence token only
BLOOM = Conventions(single="$A", pair="$A $B")  # BLOOM adds nothing
LLAMA = Conventions(single="<s> $A", pair="<s> $A <s> $B", has_pad=False)  # a beginning token per text


def train_unigram_tokenizer(
    lines: Iterable[str], vocab_size: int, conventions: Conventions = XLM_R
) -> PreTrainedTokenizerFast:
    """A fast SentencePiece/Unigram tokenizer trained on `lines`, with a family's special-token
    `conventions` (XLM-R's by default)."""
    tokenizer = Tokenizer(models.Unigram())
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.UnigramTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        unk_token="<unk>",
        initial_alphabet=script_alphabet(),
        max_piece_length=12,
    )
    lines = list(lines)
    tokenizer.train_from_iterator(lines + _word_variants(lines), trainer)
    tokenizer = _canonical(tokenizer)
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.add_special_tokens([MASK_TOKEN])
    bos, eos = SPECIAL_TOKENS.index("<s>"), SPECIAL_TOKENS.index("</s>")
    tokenizer.post_processor = processors.TemplateProcessing(
        single=conventions.single,
        pair=conventions.pair,
        special_tokens=[("<s>", bos), ("</s>", eos)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>" if conventions.has_pad else None,
        mask_token=MASK_TOKEN,
        model_max_length=512,
    )


def _word_variants(lines: list[str]) -> list[str]:
    """Inflected variants of every word type, one line per type.

    The `tokenizers` Unigram trainer seeds its pieces with substrings that occur in at least two
    distinct word types, so in a generated corpus with little morphology a frequent word that is
    part of no other word (say "the") never becomes a piece and is spelt out in characters. Real
    corpora have the morphology that makes this work; here we add it.
    """
    types = sorted({word for line in lines for word in line.split()})
    affixes = ("s", "ed", "ing", "er", "ly", "ness")
    return [" ".join([w + a for a in affixes] + [p + w for p in ("un", "re", "pre")]) for w in types]


def _canonical(tokenizer: Tokenizer) -> Tokenizer:
    """The same tokenizer with its vocabulary in a repeatable order and with repeatable scores.

    The trainer appends the characters it must keep (the initial alphabet, characters the EM
    dropped) after the learned pieces, in hash-set order, each 1e-4 below the previous one (or
    equal to it); that
    order changes from run to run. Those appended pieces all get the score of the first of them,
    and the learned pieces are rounded past the float noise of the EM.
    """
    state = json.loads(tokenizer.to_str())
    vocab = [(piece, score) for piece, score in state["model"]["vocab"] if piece not in SPECIAL_TOKENS]
    start = len(vocab) - 1
    while start > 0 and -1e-9 < vocab[start - 1][1] - vocab[start][1] < 1e-4 + 1e-6:
        start -= 1
    learned = [[piece, round(score, 4)] for piece, score in vocab[:start]]
    appended = sorted([piece, round(vocab[start][1], 4)] for piece, _ in vocab[start:])
    specials = [[piece, 0.0] for piece in SPECIAL_TOKENS]
    rest = sorted(learned, key=lambda item: (-item[1], item[0])) + appended
    state["model"]["vocab"] = specials + rest
    state["model"]["unk_id"] = SPECIAL_TOKENS.index("<unk>")
    return Tokenizer.from_str(json.dumps(state))
