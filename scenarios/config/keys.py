"""Dotted config keys: flattening a document, ``--set KEY=VALUE``, merging files, and the one
pattern rule for a key with wildcard segments.

A key names a value by its path of table names and list indexes, joined by dots
(``clusters.packbridge.members``, ``projects.3.cost_per_year``). A *pattern* is a key
some of whose segments hold shell wildcards (``*``, ``?``, ``[...]``): ``clusters.*.members``
or ``base_funding.default.values.202[2-5]``. Experiments, policies and provenance tables
all match patterns by :func:`segments_match`, segment by segment.
"""

from __future__ import annotations

import fnmatch
import tomllib
from typing import Any

from scenarios.config.files import TOO_DEEP, parse_toml
from scenarios.core.errors import UserError

WILDCARDS = frozenset("*?[")
"""Characters that make a key segment a pattern."""


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf values of nested dicts and lists keyed by dotted path (list items by index)."""
    out: dict[str, Any] = {}
    items = data.items() if isinstance(data, dict) else enumerate(data)
    for key, value in items:
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict | list) and value and not _is_scalar_list(value):
            out.update(flatten(value, path))
        else:
            out[path] = value
    return out


def _is_scalar_list(value: Any) -> bool:
    return isinstance(value, list) and all(not isinstance(v, dict | list) for v in value)


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` merged into a copy of ``base``: tables merge, everything else replaces.

    A table with a ``kind`` key (a schedule) replaces the parent's table whole, so
    a scenario can turn a ``table`` schedule into a ``taper`` without leftovers.
    """
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and "kind" not in value:
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def is_pattern(key: str) -> bool:
    """Whether any segment of ``key`` holds a wildcard (``*``, ``?``, ``[``)."""
    return not WILDCARDS.isdisjoint(key)


def segments_match(pattern: list[str], segments: list[str]) -> bool:
    """Whether each segment of ``segments`` matches the pattern segment at its place (shell
    wildcards, case-sensitive); both lists must have the same length."""
    return len(pattern) == len(segments) and all(
        fnmatch.fnmatchcase(segment, want) for segment, want in zip(segments, pattern, strict=True)
    )


def pattern_specificity(pattern: list[str]) -> int:
    """How many of a pattern's segments are plain names (more wins among matching patterns)."""
    return sum(WILDCARDS.isdisjoint(part) for part in pattern)


def match_keys(pattern: str, flat: dict[str, Any]) -> list[str]:
    """The keys of ``flat`` that ``pattern`` names; a key without wildcards names itself."""
    if not is_pattern(pattern):
        return [pattern]
    parts = pattern.split(".")
    return [key for key in flat if segments_match(parts, key.split("."))]


def parse_set(item: str) -> tuple[str, Any]:
    """``dotted.key=value`` → (key, value); the value is read as TOML, else as text."""
    if "=" not in item:
        raise UserError(f"--set {item!r}: expected KEY=VALUE, e.g. --set members.churn=0.15")
    key, text = item.split("=", 1)
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise UserError(
            f"--set {item!r}: the key is empty or has an empty part; use dotted.key=value"
        )
    text = text.strip()
    if text == "":
        raise UserError(f"--set {item!r}: no value after '='")
    try:
        value = parse_toml(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        value = text
    except ValueError:
        raise UserError(f"--set {item!r}: the value is {TOO_DEEP}") from None
    return key, value


def apply_set(document: dict[str, Any], key: str, value: Any) -> None:
    """Set ``document[dotted key] = value`` in place, creating tables on the way."""
    parts = key.split(".")
    node: Any = document
    for depth, part in enumerate(parts[:-1]):
        node = _step(node, part, ".".join(parts[: depth + 1]), create=True)
    _put(node, key, value)


def with_set_values(document: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``document`` with each dotted key of ``values`` set as :func:`apply_set` sets
    it; only the tables and lists on the keys' paths are copied, the rest is shared with
    ``document``, which is left as it was (so treat both as read-only afterwards)."""
    copied: dict[str, Any] = dict(document)
    fresh = {id(copied)}  # containers copied here, safe to change
    for key, value in values.items():
        parts = key.split(".")
        node: Any = copied
        for depth, part in enumerate(parts[:-1]):
            path = ".".join(parts[: depth + 1])
            child = _step(node, part, path, create=True)
            if id(child) not in fresh and isinstance(child, dict | list):
                child = dict(child) if isinstance(child, dict) else list(child)
                fresh.add(id(child))
                if isinstance(node, list):
                    node[_index(node, part, path)] = child
                else:
                    node[part] = child
            node = child
        _put(node, key, value)
    return copied


def _put(node: Any, key: str, value: Any) -> None:
    """Set the last part of dotted ``key`` in ``node``, its parent table or list."""
    parts = key.split(".")
    if isinstance(node, list):
        node[_index(node, parts[-1], key)] = value
    elif isinstance(node, dict):
        node[parts[-1]] = value
    else:
        raise UserError(f"--set {key}: {'.'.join(parts[:-1])} is a value, not a table")


def _index(node: list[Any], part: str, path: str) -> int:
    if not part.isdigit() or int(part) >= len(node):
        raise UserError(f"--set {path}: '{part}' is not an index of a list of {len(node)} items")
    return int(part)


def _step(node: Any, part: str, path: str, create: bool) -> Any:
    if isinstance(node, list):
        return node[_index(node, part, path)]
    if not isinstance(node, dict):
        raise UserError(f"--set {path}: the parent is a value, not a table")
    if part not in node and create:
        node[part] = {}
    return node[part]


def is_table(document: dict[str, Any], dotted: str) -> bool:
    """Whether ``dotted`` names a table of ``document``."""
    node: Any = document
    for part in dotted.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return isinstance(node, dict)
