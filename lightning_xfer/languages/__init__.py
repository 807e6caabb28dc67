"""Language metadata: codes, names, family, script (and, with the catalogue, resource sizes).

The table lives in `languages.tsv` beside this module, with its sources in its header comment.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lightning_xfer.errors import unknown_name

TABLE = Path(__file__).with_name("languages.tsv")


@dataclass(frozen=True)
class Language:
    """One row of the language table."""

    code: str
    """ISO 639-1 code (`de`), the code XTREME uses in file names."""
    code3: str
    """Three-letter code as Tatoeba uses it (`deu`, `cmn`, `pes`, `swh`)."""
    name: str
    family: str
    script: str


@lru_cache(maxsize=1)
def languages() -> dict[str, Language]:
    """All languages of the table, by ISO 639-1 code."""
    with open(TABLE, encoding="utf-8") as handle:
        rows = csv.DictReader((line for line in handle if not line.startswith("#")), delimiter="\t")
        return {row["code"]: Language(**{k: row[k] for k in Language.__dataclass_fields__}) for row in rows}


def language(code: str) -> Language:
    """The row for `code`; an unknown code names the close matches."""
    table = languages()
    if code not in table:
        raise unknown_name("language", code, table)
    return table[code]


def template_fields(code: str) -> dict[str, str]:
    """Placeholders for file-name templates: {lang}, {lang3}, {language}, {Language}."""
    if code not in languages():  # generated data uses codes of its own; only {lang} applies
        return {"lang": code, "lang3": code, "language": code, "Language": code}
    row = language(code)
    return {"lang": code, "lang3": row.code3, "language": row.name.lower(), "Language": row.name}
