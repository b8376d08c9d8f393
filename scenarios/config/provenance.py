"""Where each number in a resolved config comes from: ``seed``, ``sourced``, ``derived`` or ``assumed``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scenarios.config.scenario import flatten

UNLABELLED = "UNLABELLED"


@dataclass(frozen=True)
class Labelled:
    """One number of a config with its source."""

    key: str
    value: float | int
    kind: str
    """``seed``, ``sourced``, ``derived``, ``assumed`` or ``UNLABELLED``."""
    note: str


def _match_score(pattern: str, path: list[str]) -> tuple[int, int] | None:
    parts = pattern.split(".")
    if len(parts) > len(path):
        return None
    for want, have in zip(parts, path, strict=False):
        if want != "*" and want != have:
            return None
    return len(parts), sum(p != "*" for p in parts)


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
