"""XTREME's tagging files: `token<TAB>label` per line, a blank line between sentences.

PAN-X and UD-POS come in this layout from XTREME's preprocessing. Some copies prefix each token
with its language (`de:Berlin`); the prefix is removed when it names the file's language.
Unlabelled test files (one token per line) read with empty tags.
"""

from __future__ import annotations

from pathlib import Path

from lightning_xfer.errors import DataFormatError

_EXPECTED = "'token<TAB>label' lines with blank lines between sentences"


def read_token_tsv(path: str | Path, language: str | None = None) -> list[dict]:
    """Sentences as {id, tokens, tags}; ids are `<file stem>-<sentence number>`."""
    prefix = f"{language}:" if language else None
    sentences, tokens, tags = [], [], []
    stem = Path(path).stem

    def flush() -> None:
        if tokens:
            sentences.append({"id": f"{stem}-{len(sentences)}", "tokens": tokens[:], "tags": tags[:]})
            tokens.clear()
            tags.clear()

    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\n").rstrip("\r")
            if not line.strip():
                flush()
                continue
            fields = line.split("\t")
            if len(fields) > 2:
                raise DataFormatError(path, number, f"{len(fields)} tab-separated fields", _EXPECTED)
            if not fields[0] or (len(fields) == 2 and not fields[1].strip()):
                raise DataFormatError(path, number, f"an empty {'token' if not fields[0] else 'label'}", _EXPECTED)
            token = fields[0]
            if prefix and token.startswith(prefix) and len(token) > len(prefix):
                token = token[len(prefix) :]
            if tags and (len(fields) == 2) != bool(tags[0] is not None):
                raise DataFormatError(path, number, "labelled and unlabelled lines mixed in one sentence", _EXPECTED)
            tokens.append(token)
            tags.append(fields[1] if len(fields) == 2 else None)
    flush()
    for sentence in sentences:
        if sentence["tags"][0] is None:
            sentence["tags"] = []
    return sentences
