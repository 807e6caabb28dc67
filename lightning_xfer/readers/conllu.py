"""CoNLL-U (Universal Dependencies) as word/UPOS sentences, the way XTREME's UD-POS uses them.

XTREME keeps syntactic words: multi-word token ranges (`1-2`) and empty nodes (`8.1`) are skipped.
We checked this against XTREME's own `test-en.tsv`: its first 2,077 sentences equal UD_English-EWT
r2.5 test read this way, and its Arabic file has the proclitic conjunction `و` as a word of its own
753 times, which only happens when multi-word tokens are split into their words.
"""

from __future__ import annotations

from pathlib import Path

from lightning_xfer.errors import DataFormatError

_EXPECTED = "CoNLL-U: 10 tab-separated columns per word line, '#' comments, blank lines between sentences"


def read_conllu(path: str | Path) -> list[dict]:
    """Sentences as {id, tokens, tags} with the sentence's `sent_id` when it has one."""
    sentences, tokens, tags = [], [], []
    sent_id = None

    def flush() -> None:
        nonlocal sent_id
        if tokens:
            sentences.append(
                {"id": sent_id or f"{Path(path).stem}-{len(sentences)}", "tokens": tokens[:], "tags": tags[:]}
            )
        tokens.clear()
        tags.clear()
        sent_id = None

    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\n")
            if not line.strip():
                flush()
                continue
            if line.startswith("#"):
                if line.startswith("# sent_id"):
                    sent_id = line.split("=", 1)[-1].strip()
                continue
            fields = line.split("\t")
            if len(fields) != 10:
                raise DataFormatError(path, number, f"{len(fields)} columns", _EXPECTED)
            if "-" in fields[0] or "." in fields[0]:
                continue
            if not fields[0].isdigit():
                raise DataFormatError(path, number, f"word id {fields[0]!r}", _EXPECTED)
            tokens.append(fields[1])
            tags.append(fields[3])
    flush()
    return sentences
