"""Write a ready scenario file: a small TOML that ``extends`` a base and sets values,
each labelled in its ``[provenance]`` (used for optimise's policies and explore's
calibrated point)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scenarios.config import apply_set, flatten

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_key(dotted: str) -> str:
    """A dotted config key as a TOML key (segments quoted where needed)."""
    return ".".join(p if _BARE_KEY.match(p) else json.dumps(p) for p in dotted.split("."))


def toml_value(value: Any) -> str:
    """A TOML literal for plain config data (numbers, text, booleans, lists, tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ "
            + ", ".join(f"{toml_key(str(k))} = {toml_value(v)}" for k, v in value.items())
            + " }"
        )
    raise TypeError(f"cannot write {value!r} as TOML")


@dataclass(frozen=True)
class ScenarioFile:
    """A scenario that extends ``base`` with ``values`` (config key → value)."""

    base: Path
    """The scenario file it extends."""
    name: str
    description: str
    values: dict[str, Any]
    """Config key → value; later keys may set entries inside earlier tables."""
    sources: dict[str, str]
    """Config key → its provenance text."""
    comments: list[str] = field(default_factory=list)
    seed: int | None = None
    runs: int | None = None
    seed_source: str = ""

    def text(self, folder: Path) -> str:
        """The TOML text, for a file written in ``folder`` (``extends`` is relative to it)."""
        extends = os.path.relpath(self.base.resolve(), folder.resolve())
        fragment: dict[str, Any] = {}
        for key, value in self.values.items():
            apply_set(fragment, key, value)
        lines = [f"# {c}" for c in self.comments]
        lines += [
            f"extends = {toml_value(extends)}",
            f"name = {toml_value(self.name)}",
            f"description = {toml_value(self.description)}",
        ]
        if self.seed is not None:
            lines.append(f"seed = {self.seed}")
        if self.runs is not None:
            lines.append(f"runs = {self.runs}")
        lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in flatten(fragment).items()]
        lines += ["", "[provenance]"]
        if self.seed is not None:
            lines.append(f"seed = {toml_value(self.seed_source)}")
        if self.runs is not None:
            lines.append(f"runs = {toml_value(self.seed_source)}")
        lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in self.sources.items()]
        return "\n".join(lines) + "\n"
