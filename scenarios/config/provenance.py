"""Where each number comes from: ``seed``, ``sourced: <citation>``, ``derived`` or ``assumed``.

One rule for every provenance text the tool reads (a config's ``[provenance]`` tables, an
experiment's or policy's ``source`` of a range) and writes (a derived scenario file):
:func:`provenance_problem`. A provenance key names a value, a whole table, or a pattern
(:mod:`scenarios.config.keys`); the most specific entry that covers a key wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scenarios.config.keys import flatten, pattern_specificity, segments_match

UNLABELLED = "UNLABELLED"
PROVENANCE_KINDS = ("seed", "sourced", "derived", "assumed")
"""``seed``: the programme document; ``sourced: <citation>``: a dated public figure
(``../shared/observations/``); ``derived``: computed from those (say how); ``assumed``: not
stated (say from what)."""


def provenance_problem(text: str) -> str | None:
    """What is wrong with a provenance text (``None`` when it is fine): it must start with
    one of ``PROVENANCE_KINDS`` and a colon, and a sourced number names its source."""
    kind, colon, note = text.partition(":")
    if kind.strip() not in PROVENANCE_KINDS or not colon:
        return f"'{text}' must start with one of {', '.join(PROVENANCE_KINDS)} and a colon"
    if kind.strip() == "sourced" and not note.strip():
        return f"'{text}': a sourced number names its source after the colon"
    return None


def fixed_source(file_name: str, provenance: Mapping[str, str], key: str) -> str:
    """The provenance of a key an experiment or policy file fixes (``[fixed]``): its own
    ``provenance."fixed.<key>"`` entry, else "assumed: fixed in <file>"."""
    return provenance.get(f"fixed.{key}", f"assumed: fixed in {file_name}")


def flatten_provenance(table: Any, prefix: str = "") -> dict[str, str]:
    """A ``[provenance]`` table (nested, or with dotted keys) as key → text."""
    out: dict[str, str] = {}
    if not isinstance(table, dict):
        return out
    for key, value in table.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            out.update(flatten_provenance(value, path))
        else:
            out[path] = str(value)
    return out


@dataclass(frozen=True)
class Labelled:
    """One number of a config with its source."""

    key: str
    value: float | int
    kind: str
    """``seed``, ``sourced``, ``derived``, ``assumed`` or ``UNLABELLED``."""
    note: str


def _match_score(pattern: str, path: list[str]) -> tuple[int, int] | None:
    """How well ``pattern`` covers the key ``path`` (its first segments match), or ``None``."""
    parts = pattern.split(".")
    if len(parts) > len(path) or not segments_match(parts, path[: len(parts)]):
        return None
    return len(parts), pattern_specificity(parts)


def source_of(key: str, provenance: dict[str, str]) -> str | None:
    """The provenance text that covers ``key``: the most specific matching entry.

    An entry covers a key when its segments match the key's first segments, ``*``
    matching any one segment; longer and less wild entries win.
    """
    path = key.split(".")
    best: tuple[tuple[int, int], str] | None = None
    for pattern, text in provenance.items():
        score = _match_score(pattern, path)
        if score is not None and (best is None or score > best[0]):
            best = (score, text)
    return best[1] if best else None


def numbers(document: dict[str, Any]) -> dict[str, float | int]:
    """Every number in a resolved config by dotted key (booleans are not numbers)."""
    return {
        key: value
        for key, value in flatten(document).items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


def label_numbers(document: dict[str, Any], provenance: dict[str, str]) -> list[Labelled]:
    """Each number in ``document`` with its provenance kind and note."""
    rows = []
    for key, value in numbers(document).items():
        text = source_of(key, provenance)
        if text is None:
            rows.append(Labelled(key, value, UNLABELLED, ""))
            continue
        kind, _, note = text.partition(":")
        rows.append(Labelled(key, value, kind.strip(), note.strip()))
    return rows
