"""Mewsli-X (XTREME-R): mentions in 11 languages to be linked to English Wikidata entities.

The layout read here follows the Mewsli-X release as we understand it (it could not be checked
against the real files here): mention files `{split}-{lang}.jsonl`, one object per mention with
`mention_id`, `entity_id`, the mention's `mention` text and its `context` text; the candidate set
`candidate_set_entities.jsonl` beside them with `entity_id`, `title` and `description`; and
English training pairs (`wikipedia_pairs-train.jsonl`, same fields as a mention). A mention is
encoded as "mention | context", an entity as "title: description".

XTREME-R's own baseline (`utils_mewslix.py`) differs: a query is the mention, a colon, and one
sentence of context with the mention marked by braces ("Smith: The verdict came back for { Smith
}, who..."); a candidate is the entity's description sentences alone, without the title. Its dual
encoder reads the last layer, as the Mewsli-X task here does.
"""

from __future__ import annotations

from pathlib import Path

from lightning_xfer.readers.jsonl import read_jsonl

_MENTION = ("mention_id", "entity_id", "mention", "context")


def _mention_text(record: dict) -> str:
    return f"{record['mention']} | {record['context']}"


def read_mewslix(path: Path, language: str) -> list[dict]:
    """Mentions and the candidate set (evaluation), or training pairs from `wikipedia_pairs-*`."""
    path = Path(path)
    if path.name.startswith("wikipedia_pairs"):
        return read_mewslix_pairs(path, language)
    examples = [
        {"id": r["mention_id"], "text": _mention_text(r), "side": "source", "index": i, "relevant": [r["entity_id"]]}
        for i, (_, r) in enumerate(read_jsonl(path, _MENTION))
    ]
    candidates = path.parent / "candidate_set_entities.jsonl"
    examples.extend(
        {"id": r["entity_id"], "text": f"{r['title']}: {r.get('description', '')}", "side": "target", "index": i,
         "relevant": []}
        for i, (_, r) in enumerate(read_jsonl(candidates, ("entity_id", "title")))
    )  # fmt: skip
    return examples


def read_mewslix_pairs(path: Path, language: str = "en") -> list[dict]:
    """English (mention, entity) training pairs; the entity text comes from the candidate set."""
    path = Path(path)
    entities = {
        r["entity_id"]: f"{r['title']}: {r.get('description', '')}"
        for _, r in read_jsonl(path.parent / "candidate_set_entities.jsonl", ("entity_id", "title"))
    }
    return [
        {"id": r["mention_id"], "query": _mention_text(r), "target": entities[r["entity_id"]]}
        for _, r in read_jsonl(path, _MENTION)
        if r["entity_id"] in entities
    ]
