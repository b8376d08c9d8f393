"""What the readers of a results folder rely on, checked once when the folder is opened.

A folder's manifest says which kind it is (``kind``: ``explore`` or ``optimise``; a run
folder's has none) and is validated against the model of that kind: the fields the
readers use, with their types. A table is read with the columns its reader uses, each
numeric one holding numbers. A folder that fails is named in one line each problem,
``results/x: not a results folder of this tool: manifest has no horizon``; a folder of
another kind is named as what it is, with what the command takes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from scenarios.core.errors import UserError
from scenarios.core.lazy import pandas as pd

RUN_KIND = "run"
EXPLORE_KIND = "explore"
OPTIMISE_KIND = "optimise"
COMPARE_KIND = "compare"
KIND_NAMES = {
    RUN_KIND: "a run folder (from clusterfund run)",
    EXPLORE_KIND: "an explore folder (from clusterfund explore)",
    OPTIMISE_KIND: "an optimise folder (from clusterfund optimise)",
    COMPARE_KIND: "a comparison folder (from clusterfund compare)",
}
"""Each kind of results folder as a message names it."""
NOT_OURS = "not a results folder of this tool"


def foreign(folder: Path, why: str) -> str:
    """The line for a folder that is not (or no longer) what this tool wrote."""
    return f"{folder}: {NOT_OURS}: {why}"


def kind_name(kind: str) -> str:
    """A kind as a message names it (a kind this version does not know, by its name)."""
    return KIND_NAMES.get(kind, f"a '{kind}' folder (by its manifest)")


def wrong_kind(folder: Path, kind: str, expected: str, command: str | None) -> UserError:
    """``folder`` is a ``kind`` folder where ``command`` takes an ``expected`` one."""
    wanted = f"{command} takes {kind_name(expected)}" if command else f"not {kind_name(expected)}"
    return UserError(f"{folder} is {kind_name(kind)}; {wanted}")


# --- the manifest, by kind -------------------------------------------------------


class _Checked(BaseModel):
    """Types as JSON gives them (no text read as a number); other fields are kept."""

    model_config = ConfigDict(strict=True, extra="allow")


class _Cluster(_Checked):
    name: str


class _Programme(_Checked):
    target_year: int


class _Scorecard(_Checked):
    min_members: float
    max_regional_share: float


class _RunConfig(_Checked):
    description: str = ""
    programme: _Programme
    scorecard: _Scorecard
    clusters: dict[str, _Cluster] = Field(min_length=1)


class RunManifest(_Checked):
    """What the readers of a run folder (compare, report, backtest, charts) take from its
    manifest."""

    name: str
    description: str = ""
    config_sha256: str
    created: str
    seed: int
    runs: int = Field(ge=1)
    start_year: int
    horizon: int
    target_year: int
    versions: dict[str, str]
    config: _RunConfig
    provenance: dict[str, str] = {}

    @model_validator(mode="after")
    def _years_in_order(self) -> RunManifest:
        if self.horizon < self.start_year:
            raise ValueError(f"its horizon {self.horizon} is before its start_year")
        return self


class _Input(_Checked):
    range: list[float] | None = Field(default=None, min_length=2, max_length=2)
    scale: list[float] | None = Field(default=None, min_length=2, max_length=2)

    @model_validator(mode="after")
    def _has_bounds(self) -> _Input:
        if self.range is None and self.scale is None:
            raise ValueError("has neither range nor scale")
        return self


class _Discover(_Checked):
    outcome: str
    above: float | None = None
    below: float | None = None


class _Outcome(_Checked):
    stat: str


class _Experiment(_Checked):
    outcomes: dict[str, _Outcome]
    discover: _Discover | None = None


class ExploreManifest(_Checked):
    """What the readers of an explore folder (its summary, charts, the report) take from
    its manifest."""

    name: str
    description: str = ""
    design: str
    points: int = Field(ge=1)
    replications: int = Field(ge=1)
    seed: int
    base_files: list[str] = []
    inputs: dict[str, _Input] = Field(min_length=1)
    experiment: _Experiment


class _Bound(_Checked):
    at_least: float | None = None
    at_most: float | None = None


class _Objective(_Checked):
    minimise: list[str]
    maximise: list[str]


class _Policy(_Checked):
    objective: _Objective
    constraints: dict[str, _Bound]


class OptimiseManifest(_Checked):
    """What the readers of an optimise folder (its summary and charts) take from its
    manifest."""

    name: str
    evaluations: int = Field(ge=1)
    replications: int = Field(ge=1)
    algorithm: str
    levers: dict[str, Any] = Field(min_length=1)
    policy: _Policy


MANIFEST_MODELS: dict[str, type[BaseModel]] = {
    RUN_KIND: RunManifest,
    EXPLORE_KIND: ExploreManifest,
    OPTIMISE_KIND: OptimiseManifest,
}

_EXPECTED = {
    "int_type": "a whole number",
    "float_type": "a number",
    "string_type": "a text",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "list_type": "a list",
}


def _where(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location)


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def manifest_problems(error: ValidationError) -> list[str]:
    """What is wrong with a manifest, one phrase per problem (``manifest has no horizon``)."""
    problems = []
    for item in error.errors():
        where = _where(item["loc"])
        if item["type"] == "missing":
            problems.append(f"manifest has no {where}")
        elif item["type"] in _EXPECTED:
            shown = _shown(item["input"])
            problems.append(f"manifest's {where} is {shown}, not {_EXPECTED[item['type']]}")
        else:
            message = str(item["msg"]).removeprefix("Value error, ")
            subject = f"manifest's {where}" if where else "manifest"
            problems.append(f"{subject}: {message[0].lower()}{message[1:]}")
    return problems


def check_manifest(folder: Path, raw: Any, expected: str, command: str | None) -> dict[str, Any]:
    """``raw`` (the parsed ``manifest.json`` of ``folder``) if it is a manifest of the
    ``expected`` kind with every field its readers use; a ``UserError`` otherwise."""
    if not isinstance(raw, dict):
        raise UserError(foreign(folder, f"manifest is a JSON {_json_type(raw)}, not an object"))
    kind = raw.get("kind", RUN_KIND)
    if not isinstance(kind, str):
        raise UserError(foreign(folder, f"manifest's kind is {_shown(kind)}, not a text"))
    if kind != expected:
        raise wrong_kind(folder, kind, expected, command)
    try:
        MANIFEST_MODELS[kind].model_validate(raw)
    except ValidationError as exc:
        raise UserError([foreign(folder, p) for p in manifest_problems(exc)]) from None
    return raw


def _json_type(value: Any) -> str:
    names = {list: "list", str: "text", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


# --- the tables ----------------------------------------------------------------------


def read_table(
    folder: Path,
    name: str,
    numeric: Sequence[str],
    text: Sequence[str] = (),
    unique: Sequence[str] = (),
    rows_required: bool = True,
    **options: Any,
) -> pd.DataFrame:
    """``folder/name`` with at least one row (unless not ``rows_required``), the
    ``numeric`` columns holding numbers (an empty cell is NaN), the ``text`` columns
    present, and no two rows with the same ``unique`` columns; a ``UserError`` naming the
    first thing wrong otherwise. ``options`` go to ``pandas.read_csv``."""
    path = folder / name
    if not path.is_file():
        raise UserError(f"{path}: missing; the results folder is incomplete")
    try:
        table = pd.read_csv(path, **options)
    except pd.errors.EmptyDataError:
        raise UserError(foreign(folder, f"{name} is empty")) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(
            foreign(folder, f"{name} is not a table this tool wrote ({first})")
        ) from None
    missing = [c for c in (*numeric, *text) if c not in table.columns]
    if missing:
        raise UserError(foreign(folder, f"{name} has no column {', '.join(missing)}"))
    if rows_required and table.empty:
        raise UserError(foreign(folder, f"{name} has no rows"))
    for column in numeric:
        values = pd.to_numeric(table[column], errors="coerce")
        bad = values.isna() & table[column].notna()
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise UserError(
                foreign(
                    folder,
                    f"{name} row {row + 1}: {column} is {_shown(str(table[column].iloc[row]))}, "
                    "not a number",
                )
            )
        table[column] = values
    if unique:
        repeated = table.duplicated(list(unique))
        if repeated.any():
            row = int(repeated.to_numpy().argmax())
            key = ", ".join(f"{c} {table[c].iloc[row]}" for c in unique)
            raise UserError(foreign(folder, f"{name} row {row + 1}: {key} again"))
    return table


def no_empty_cells(folder: Path, name: str, table: pd.DataFrame, columns: Sequence[str]) -> None:
    """Refuse an empty cell in ``columns`` of a table read by :func:`read_table`."""
    for column in columns:
        empty = table[column].isna()
        if empty.any():
            row = int(empty.to_numpy().argmax())
            raise UserError(foreign(folder, f"{name} row {row + 1}: {column} is empty"))


WORK_FOLDER = re.compile(r"\.(?P<name>.+)\.work")
"""An explore or optimise work folder's name: ``.<results folder>.work``."""
