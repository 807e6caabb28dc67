"""Checks every reader's output gets, whatever the format: the bytes decode, and ids are unique.

They run where a split is read (`data.sources`), so a new reader is covered without repeating them.
"""

from __future__ import annotations

from pathlib import Path

from lightning_xfer.errors import DataFormatError


def undecodable(path: str | Path, error: UnicodeDecodeError) -> DataFormatError:
    """The error for a file that is not UTF-8, at the first line that does not decode.

    The decoder's own offset is into whatever chunk it was reading, so the line is found again
    from the file's bytes.
    """
    path = Path(path)
    if path.is_file():
        for number, raw in enumerate(path.read_bytes().splitlines(), start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as at_line:
                byte = raw[at_line.start : at_line.start + 1]
                return DataFormatError(path, number, f"byte {byte!r} is not UTF-8", "a UTF-8 text file (re-encode it "
                                       "with `iconv -t UTF-8`)")  # fmt: skip
    return DataFormatError(path, None, f"not UTF-8 ({error.reason})", "a UTF-8 text file")


def check_unique_ids(path: str | Path, examples: list[dict]) -> None:
    """Two examples with one id would be scored, predicted and excluded as one: stop at the second.

    Retrieval readers give each side (queries, candidates) its own ids, so the side is part of the key.
    """
    first: dict[tuple, dict] = {}
    for example in examples:
        identifier = example.get("id")
        if identifier is None:
            continue
        key = (example.get("side"), str(identifier))
        if key not in first:
            first[key] = example
            continue
        earlier = first[key]
        where = f" (first on line {earlier['line']})" if "line" in earlier else ""
        raise DataFormatError(path, example.get("line"), f"id {identifier} appears twice{where}",
                              "one example per id")  # fmt: skip
