"""Mewsli-X (XTREME-R): mentions in 11 languages to be linked to English Wikidata entities, in the
layout XTREME-R's `download_data.sh` (`download_mewslix`, then `utils_preprocess.py`) writes:

    mewslix/candidate_set_entities.jsonl           one Entity per line (the candidate pool)
    mewslix/wikipedia_pairs-{train,dev}.jsonl      one MentionEntityPair per line (English training)
    mewslix/wikinews_mentions/{dev,test}-{lang}.jsonl  one ContextualMentions per line
    mewslix/wikinews_labels/{dev,test}-{lang}.json     {example_id: [entity_id]}

The records follow Mewsli-X's schema (`third_party/utils_mewslix.py`): an Entity has `entity_id`,
`title`, `description` and `sentence_spans` ({start, end} into the description); a ContextualMentions
has a `context` (`text`, `language`, `sentence_spans`, ...) and its `mentions`, each with
`example_id`, `mention_span` ({start, end, text} into the context's text) and `entity_id`; a
MentionEntityPair has a `contextual_mention` ({context, mention}) and its `entity`. The test labels
are withheld (`entity_id` ""): test mentions have no gold, so `test` stops and `predict` writes them.

Texts are built as `utils_mewslix.py` builds them: a query is the mention, a colon, and the one
sentence that holds it with the mention marked by braces ("Smith: The verdict came back for { Smith
}, who..."); a candidate is its description's sentences joined by spaces, without the title.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from lightning_xfer.errors import DataFormatError
from lightning_xfer.readers.jsonl import read_jsonl

CANDIDATES = "candidate_set_entities.jsonl"
LABELS = "wikinews_labels"
_MARKER = re.compile(r"\{(.*?)\}")  # braces already in the text become parentheses, as utils_mewslix escapes them
_LABELLED = "gold labels in wikinews_labels/{split}-{lang}.json (Mewsli-X withholds the test labels)"


def _normalise(text: str) -> str:
    """utils_mewslix's light normalisation: line breaks become spaces, then one pass of '  ' -> ' '."""
    return " ".join(text.splitlines()).replace("  ", " ").strip()


def query_text(context: dict, mention: dict, path: Path | str = "") -> str:
    """`preprocess_mention`: the mention, ': ', then its sentence with the mention in braces."""
    span = mention["mention_span"]
    start, end = span["start"], span["end"]
    sentence = next(
        (s for s in context["sentence_spans"] if s["start"] <= start < s["end"] and s["start"] < end <= s["end"]),
        None,
    )
    if sentence is None:
        raise DataFormatError(
            path,
            None,
            f"mention {mention['example_id']} lies in no single sentence",
            "a mention inside one sentence span",
        )
    text = context["text"]
    left = _MARKER.sub(r"(\1)", text[sentence["start"] : start])
    right = _MARKER.sub(r"(\1)", text[end : sentence["end"]])
    return _normalise(f"{span['text']}: {left} {{ {span['text']} }} {right}")


def entity_text(entity: dict) -> str:
    """`preprocess_entity_description`: the description's sentences joined by spaces."""
    description = entity["description"]
    return _normalise(" ".join(description[s["start"] : s["end"]] for s in entity["sentence_spans"]))


def missing_mention_labels(path: Path, example_id: str) -> DataFormatError:
    """The error for scoring mentions whose labels are withheld (Mewsli-X's test split)."""
    return DataFormatError(
        path,
        None,
        f"mention {example_id} has no gold entity, so it cannot be scored",
        f"{_LABELLED}; to link unlabelled mentions, use `python -m lightning_xfer predict`",
    )


def _labels(path: Path) -> dict[str, list[str]]:
    """The split's {example_id: [entity_id]} beside the mentions folder; {} when there is none."""
    labels = path.parent.parent / LABELS / f"{path.stem}.json"
    if not labels.exists():
        return {}
    try:
        return json.loads(labels.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DataFormatError(labels, error.lineno, f"invalid JSON ({error.msg})", _LABELLED) from None


def read_mewslix(path: Path, language: str) -> list[dict]:
    """A split's mentions and the candidate set (evaluation), or training pairs from `wikipedia_pairs-*`.

    A mention's gold is its label in `wikinews_labels/` (else its own `entity_id`); an empty one
    (the withheld test labels) leaves `relevant` None: predicted, never scored.
    """
    path = Path(path)
    if path.name.startswith("wikipedia_pairs"):
        return read_mewslix_pairs(path, language)
    labels = _labels(path)
    examples = []
    for _, record in read_jsonl(path, ("context", "mentions")):
        for mention in record["mentions"]:
            gold = (labels.get(mention["example_id"]) or [mention.get("entity_id", "")])[0].strip()
            text = query_text(record["context"], mention, path)
            examples.append({"id": mention["example_id"], "text": text, "side": "source", "index": len(examples),
                             "relevant": [gold] if gold else None})  # fmt: skip
    candidates = path.parent.parent / CANDIDATES
    if not candidates.exists():
        raise DataFormatError(candidates, None, "the file is missing", f"Mewsli-X's candidate set beside {path.parent}")
    examples.extend(
        {"id": r["entity_id"], "text": entity_text(r), "side": "target", "index": i, "relevant": []}
        for i, (_, r) in enumerate(read_jsonl(candidates, ("entity_id", "description", "sentence_spans")))
    )
    return examples


def read_mewslix_pairs(path: Path, language: str = "en") -> list[dict]:
    """English (mention in context, entity) training pairs, one MentionEntityPair per line."""
    path = Path(path)
    return [
        {
            "id": r["contextual_mention"]["mention"]["example_id"],
            "query": query_text(r["contextual_mention"]["context"], r["contextual_mention"]["mention"], path),
            "target": entity_text(r["entity"]),
        }
        for _, r in read_jsonl(path, ("contextual_mention", "entity"))
    ]
