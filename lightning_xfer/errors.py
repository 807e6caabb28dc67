"""Errors a user can fix, kept apart from bugs.

A `UserError` carries a message that names the file, line or key at fault and what was expected.
The command-line entry point prints it in one line instead of a traceback; anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import NoReturn


class UserError(Exception):
    """A mistake in a config, a command line or an input file, with the fix in its message."""


def notice(message: str) -> None:
    """A line for the user that is not an error: the command goes on, but says what it left out
    in its output (stderr), not only inside a file it writes."""
    print(f"lightning_xfer: warning: {message}", file=sys.stderr)


def command_line_error(message: str, command: str | None = None) -> NoReturn:
    """Exit 2 with a command-line mistake in one line, and where the options are listed.

    argparse and jsonargparse print the whole usage (for `fit`, a hundred lines of options) above the
    error; the fix is in the last line, so that is what the user gets, like a `UserError`."""
    where = f"python -m lightning_xfer {command} --help" if command else "python -m lightning_xfer --help"
    print(f"lightning_xfer: error: {' '.join(message.split())} ({where} lists the options)", file=sys.stderr)
    sys.exit(2)


class DataFormatError(UserError):
    """A data file that does not have the format its reader expects."""

    def __init__(self, path: str | Path, line: int | None, problem: str, expected: str):
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}; expected {expected}")
        self.path = str(path)
        self.line = line


def unknown_name(kind: str, name: str, known: Iterable[str], hint: str = "") -> UserError:
    """An error for a name that is not in a known set, naming the closest matches."""
    known = sorted(set(known))
    close = difflib.get_close_matches(name, known, n=4, cutoff=0.5)
    message = f"unknown {kind} {name!r}"
    if close:
        message += f"; did you mean {', '.join(repr(c) for c in close)}?"
    else:
        shown = ", ".join(known[:40]) + (", ..." if len(known) > 40 else "")
        message += f"; known: {shown}"
    if hint:
        message += f" ({hint})"
    return UserError(message)
