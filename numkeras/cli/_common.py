"""What the command-line modules share: the error types and the way messages are printed.

A user's mistake (a bad option, a missing file, an unreadable image) becomes a ``CLIError``
whose message is one line; ``main`` prints it on stderr and exits with its code, with no
traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import sys

USAGE_EXIT = 2
FAILURE_EXIT = 1
INTERRUPTED_EXIT = 130


class CLIError(Exception):
    """A failure caused by the input, reported as one line on stderr; exit code ``code``."""

    code = FAILURE_EXIT

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(one_line(message))
        if code is not None:
            self.code = code


class UsageError(CLIError):
    """A bad option value (unknown name, out of range): exit code 2, as argparse uses."""

    code = USAGE_EXIT


def one_line(text: object) -> str:
    """``text`` with its line breaks and runs of spaces folded, so a message stays one line."""
    parts = [part.strip() for part in str(text).splitlines()]
    return " ".join(part for part in parts if part)


def note(message: str) -> None:
    """A notice for the person at the terminal (not part of the results): one line, stderr."""
    print(f"numkeras: {message}", file=sys.stderr, flush=True)


def say(message: str = "") -> None:
    """A line of the command's output on stdout."""
    print(message, flush=True)
