"""Converters from Hugging Face hub rows to the task families' example schemas.

Each takes (row, language) and returns an example, or None for a row of another language (some
hub configs hold every language in one table). Example ids are added by the loader when a hub
table has none.
"""

from __future__ import annotations

from collections.abc import Callable

from lightning_xfer.languages import template_fields


def xnli(row: dict, language: str) -> dict | None:
    if row["language"] != language:
        return None
    return {"text": row["sentence1"], "text_pair": row["sentence2"], "label": str(row["gold_label"])}


def pawsx(row: dict, language: str) -> dict:
    return {"text": row["sentence1"], "text_pair": row["sentence2"], "label": str(row["label"])}


def glue_pair(first: str, second: str, names: tuple[str, ...]) -> Callable[[dict, str], dict]:
    """GLUE rows store labels as integers in the order of `names`."""

    def convert(row: dict, language: str) -> dict:
        return {
            "text": row[first],
            "text_pair": row[second] if second else None,
            "label": names[row["label"]],
        }

    return convert


def tagging(field: str, names: tuple[str, ...]) -> Callable[[dict, str], dict]:
    """Rows with `tokens` and integer tags numbered like `names`."""

    def convert(row: dict, language: str) -> dict:
        return {"tokens": list(row["tokens"]), "tags": [names[t] for t in row[field]]}

    return convert


def squad(row: dict, language: str) -> dict:
    answers = row["answers"]
    return {
        "id": row["id"],
        "title": row.get("title", ""),
        "context": row["context"],
        "question": row["question"],
        "answers": {"text": list(answers["text"]), "answer_start": [int(a) for a in answers["answer_start"]]},
    }


def tydiqa(row: dict, language: str) -> dict | None:
    """`google/xtreme`'s tydiqa table mixes languages; ids start with the language's English name."""
    if not row["id"].startswith(template_fields(language)["language"] + "-"):
        return None
    return squad(row, language)


def nli(names: tuple[str, ...]) -> Callable[[dict, str], dict]:
    """NLI rows with premise, hypothesis and an integer label (ANLI, MNLI on the hub)."""

    def convert(row: dict, language: str) -> dict:
        return {
            "id": row.get("uid"),
            "text": row["premise"],
            "text_pair": row["hypothesis"],
            "label": names[row["label"]],
        }

    return convert


def commonsenseqa(row: dict, language: str) -> dict:
    labels = list(row["choices"]["label"])
    return {
        "id": row["id"],
        "context": "",
        "question": row["question"],
        "choices": list(row["choices"]["text"]),
        "label": labels.index(row["answerKey"]) if row.get("answerKey") else -1,
    }


def cosmosqa(row: dict, language: str) -> dict:
    return {
        "id": row["id"],
        "context": row["context"],
        "question": row["question"],
        "choices": [row[f"answer{i}"] for i in range(4)],
        "label": int(row["label"]),
    }


def hellaswag(row: dict, language: str) -> dict:
    return {
        "id": str(row["ind"]),
        "context": row["ctx_a"],
        "question": "",
        "choices": [f"{row['ctx_b']} {ending}".strip() for ending in row["endings"]],
        "label": int(row["label"]) if row.get("label", "") != "" else -1,
    }
