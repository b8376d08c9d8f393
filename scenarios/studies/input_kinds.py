"""Which kind of input file a command was given, so that a scenario config given to
``explore``, an experiment given to ``run`` or a policy given to ``explore`` is named in one
line ("configs/baseline.toml is a scenario config (for clusterfund run); explore takes an
experiment (for clusterfund explore)") instead of every key the wrong model misses.

A file's kind is read from its top-level tables: an experiment has ``uncertain`` (or a
``design``), a policy ``levers`` (or an ``objective``), a scenario ``programme``,
``clusters``, ``base_funding``, ``arena`` or ``extends``. A file of no known kind, or one
that cannot be read, is left to the command's own loader, which says what is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scenarios.config.files import read_toml
from scenarios.core.errors import UserError

SCENARIO, EXPERIMENT, POLICY = "scenario", "experiment", "policy"
KIND_NAMES = {
    SCENARIO: "a scenario config (for clusterfund run)",
    EXPERIMENT: "an experiment (for clusterfund explore)",
    POLICY: "a policy (for clusterfund optimise)",
}
MARKS = (
    (EXPERIMENT, frozenset({"uncertain", "design"})),
    (POLICY, frozenset({"levers", "objective"})),
    (SCENARIO, frozenset({"programme", "clusters", "base_funding", "arena", "extends"})),
)
"""Top-level keys that mark each kind, checked in this order."""


def file_kind(document: Mapping[str, Any]) -> str | None:
    """The kind of a parsed input file, or ``None`` when no mark is found."""
    keys = set(document)
    return next((kind for kind, marks in MARKS if keys & marks), None)


def check_input_kind(path: Path, expected: str, command: str) -> None:
    """Refuse, in one line, a TOML file of another kind than ``command`` takes."""
    if path.suffix.lower() != ".toml" or not path.is_file():
        return
    try:
        document = read_toml(path)
    except UserError:
        return  # the command's loader names what is wrong with it
    kind = file_kind(document)
    if kind is not None and kind != expected:
        raise UserError(f"{path} is {KIND_NAMES[kind]}; {command} takes {KIND_NAMES[expected]}")
