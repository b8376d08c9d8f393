"""The one error type the CLI turns into red lines instead of a traceback."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class UserError(Exception):
    """Bad input from the user: one line per problem, each naming file and key."""

    def __init__(self, lines: list[str] | str) -> None:
        self.lines = [lines] if isinstance(lines, str) else list(lines)
        super().__init__("\n".join(self.lines))


def problem_line(file: str, key: str | None, message: str) -> str:
    """Format one problem as ``file: key: message`` (the key is left out when unknown)."""
    return f"{file}: {key}: {message}" if key else f"{file}: {message}"


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``; did you mean 'x'?`` for the known name closest to ``name``, or ``""`` when none is
    close: the hint every "unknown name" line ends with."""
    guess = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean '{guess[0]}'?" if guess else ""
