"""Write a ready scenario file: a small TOML that ``extends`` a base and sets values,
each labelled in its ``[provenance]`` (used for optimise's policies and explore's
calibrated point).

The document is written by ``tomli_w``, which escapes whatever a text holds (a
description with DEL or a line break, a key with a dot), so the file always loads with
``tomllib`` and as a scenario; the comment lines above it have their control characters
shown as escapes, since a comment cannot hold them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from scenarios.config.keys import apply_set
from scenarios.config.provenance import fixed_source
from scenarios.config.study_file import Study

_NOT_IN_A_COMMENT = re.compile("[\x00-\x08\x0a-\x1f\x7f]")
"""What a TOML comment cannot hold: control characters but tab (a line break ends it)."""


def comment_line(text: str) -> str:
    """``text`` as one TOML comment line, its control characters shown as ``\\x..`` escapes."""
    shown = _NOT_IN_A_COMMENT.sub(
        lambda match: match.group().encode("unicode_escape").decode("ascii"), text
    )
    return f"# {shown}"


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

    def document(self, folder: Path) -> dict[str, Any]:
        """The file's content as TOML data, for a file in ``folder`` (``extends`` is
        relative to it): ``extends``, ``name``, ``description``, ``seed`` and ``runs``,
        the values as tables, then ``[provenance]``."""
        document: dict[str, Any] = {
            "extends": os.path.relpath(self.base.resolve(), folder.resolve()),
            "name": self.name,
            "description": self.description,
        }
        provenance: dict[str, str] = {}
        for key, value in (("seed", self.seed), ("runs", self.runs)):
            if value is not None:
                document[key] = value
                provenance[key] = self.seed_source
        fragment: dict[str, Any] = {}
        for key, value in self.values.items():
            apply_set(fragment, key, value)
        for key, value in fragment.items():  # the file's own fields above come first
            document.setdefault(key, value)
        document["provenance"] = {**provenance, **self.sources}
        return document

    def text(self, folder: Path) -> str:
        """The TOML text, for a file written in ``folder`` (``extends`` is relative to it)."""
        comments = "".join(comment_line(c) + "\n" for c in self.comments)
        return comments + tomli_w.dumps(self.document(folder))


def point_scenario(
    study: Study,
    row: Any,
    *,
    name: str,
    description: str,
    label: str,
    comments: list[str],
    seed: int | None = None,
    runs: int | None = None,
    seed_source: str = "",
) -> ScenarioFile:
    """One point of a study file (explore's calibrated best point, one of optimise's chosen
    policies) as a scenario that extends the study's base: the file's ``fixed`` keys, each
    labelled as :func:`scenarios.config.provenance.fixed_source` says, and the point's
    values (``row``: one number per parameter), labelled ``label``."""
    spec = study.spec
    overrides = study.overrides(row)
    sources = {key: fixed_source(study.path.name, spec.provenance, key) for key in spec.fixed}
    sources.update(dict.fromkeys(overrides, label))
    return ScenarioFile(
        base=study.path.parent / spec.base,
        name=name,
        description=description,
        values={**spec.fixed, **overrides},
        sources=sources,
        comments=comments,
        seed=seed,
        runs=runs,
        seed_source=seed_source,
    )
