"""Label sets, in the order the Hugging Face copies of the datasets number them."""

PANX = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")
UPOS = (
    "ADJ",
    "ADP",
    "ADV",
    "AUX",
    "CCONJ",
    "DET",
    "INTJ",
    "NOUN",
    "NUM",
    "PART",
    "PRON",
    "PROPN",
    "PUNCT",
    "SCONJ",
    "SYM",
    "VERB",
    "X",
)
NLI = ("entailment", "neutral", "contradiction")
NLI_ALIASES = {"contradictory": "contradiction", "e": "entailment", "n": "neutral", "c": "contradiction"}
BINARY = ("0", "1")
