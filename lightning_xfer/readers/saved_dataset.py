"""A Hugging Face `datasets` folder written by `save_to_disk` (e.g. an MLQA split saved offline)."""

from __future__ import annotations

from pathlib import Path

from lightning_xfer.errors import DataFormatError


def read_saved_dataset(path: str | Path) -> list[dict]:
    """The rows of a `save_to_disk` folder, as dicts."""
    import datasets

    try:
        dataset = datasets.load_from_disk(str(path))
    except FileNotFoundError as error:
        raise DataFormatError(path, None, str(error), "a folder written by datasets' save_to_disk") from None
    if isinstance(dataset, datasets.DatasetDict):
        raise DataFormatError(path, None, f"a DatasetDict with splits {list(dataset)}", "one split's folder")
    return dataset.to_list()
