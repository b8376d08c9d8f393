"""Load a scenario config: TOML, ``extends`` chains, a project CSV, ``--set`` overrides.

The resolved document (every file merged, the CSV inlined, the overrides applied)
is what gets validated and recorded in the manifest. Every problem found is
reported at once, each naming the file that set the key and the key path.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from scenarios.config.files import read_csv, read_json, read_toml
from scenarios.config.job_size import runs_problem
from scenarios.config.keys import apply_set, deep_merge, flatten, parse_set
from scenarios.config.parameter_sets_file import read_parameter_sets
from scenarios.config.provenance import flatten_provenance, provenance_problem
from scenarios.core.errors import UserError, did_you_mean, problem_line
from simulator.parameter_sets import set_problems
from simulator.scenario import CLUSTER_SEPARATOR, Problem, Scenario, scenario_problems

SET_ORIGIN = "--set"
PROJECT_COLUMNS = (
    "id",
    "title",
    "area",
    "clusters",
    "cost_per_year",
    "duration",
    "earliest_start",
    "cofunding_per_year",
    "impact",
)
"""The columns every projects CSV has."""


@dataclass
class LoadedConfig:
    """A validated scenario with where its values came from."""

    scenario: Scenario
    document: dict[str, Any]
    """The resolved config as plain data (what the manifest records)."""
    provenance: dict[str, str]
    """Key path (may hold ``*`` wildcards, or name a table) → ``seed|sourced|derived|assumed: why``."""
    origin: dict[str, str] = field(default_factory=dict)
    """Leaf key path → the file (or ``--set``) that set it."""
    files: list[str] = field(default_factory=list)
    """Every file read, the top one first."""


# --- reading files ----------------------------------------------------------


def read_projects_csv(path: Path) -> list[dict[str, Any]]:
    """Projects from a CSV file: one row per project, ``clusters`` separated by
    ``CLUSTER_SEPARATOR`` (``;``). Parsed strictly (see :func:`input_files.read_csv`)."""
    header, rows = read_csv(path, "a projects CSV", "projects_file")
    missing = [c for c in PROJECT_COLUMNS if c not in header]
    if missing:
        raise UserError(
            problem_line(
                str(path),
                "header",
                f"missing column(s) {', '.join(missing)}; a projects CSV has the columns "
                f"{', '.join(PROJECT_COLUMNS)} (and optionally growth_seed, latest_start)",
            )
        )
    projects = []
    for row in rows:
        project: dict[str, Any] = {k: v.strip() for k, v in row.cells.items() if k}
        if "clusters" in project:
            project["clusters"] = [
                c.strip() for c in project["clusters"].split(CLUSTER_SEPARATOR) if c.strip()
            ]
        if project.get("growth_seed") == "":
            del project["growth_seed"]
        projects.append(project)
    return projects


def _fix_set_keys(sets: dict[str, Any], changed: dict[str, Any]) -> None:
    """Record in ``sets`` (a resolved ``parameter_sets`` table) the keys it holds that
    ``changed`` sets after it was named: every run keeps those values, not the sets'."""
    fixed = list(sets.get("fixed", []))
    fixed += [key for key in sets.get("keys", []) if key in changed and key not in fixed]
    sets["fixed"] = fixed


def _resolve_file(
    path: Path, chain: tuple[Path, ...], origin: dict[str, str], provenance: dict[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """The merged document of ``path`` and everything it extends (parents first)."""
    raw = read_toml(path, key="extends" if chain else None)  # first: refuses a symlink loop
    path = path.resolve()
    if path in chain:
        cycle = " -> ".join(p.name for p in (*chain, path))
        raise UserError(problem_line(str(chain[-1]), "extends", f"extends cycle: {cycle}"))
    files = [str(path)]
    parent_doc: dict[str, Any] = {}
    parent_ref = raw.pop("extends", None)
    if parent_ref is not None:
        if not isinstance(parent_ref, str):
            raise UserError(problem_line(str(path), "extends", "must be a file name (a string)"))
        parent_doc, parent_files = _resolve_file(
            path.parent / parent_ref, (*chain, path), origin, provenance
        )
        files += parent_files
    own_provenance = raw.pop("provenance", {})
    sets_file = raw.pop("parameter_sets", None)
    if sets_file is None and isinstance(parent_doc.get("parameter_sets"), dict):
        _fix_set_keys(parent_doc["parameter_sets"], flatten(raw))
    if sets_file is not None:
        if not isinstance(sets_file, str) or not sets_file.strip():
            raise UserError(
                problem_line(
                    str(path),
                    "parameter_sets",
                    'must name a CSV file of parameter sets, e.g. "baseline_sets.csv" '
                    "(leave the key out for none)",
                )
            )
        sets_path = path.parent / sets_file
        raw["parameter_sets"] = read_parameter_sets(sets_path)
        files.append(str(sets_path.resolve()))
    projects_file = raw.pop("projects_file", None)
    csv_path = path.parent / str(projects_file) if projects_file is not None else None
    if csv_path is not None:
        raw["projects"] = read_projects_csv(csv_path)
        files.append(str(csv_path.resolve()))
    if "projects" in raw:  # a file that sets the pool replaces the parent's whole
        for key in [k for k in origin if k.split(".")[0] == "projects"]:
            del origin[key]
    for key in flatten(raw):
        from_csv = csv_path is not None and key.split(".")[0] == "projects"
        origin[key] = str(csv_path if from_csv else path)
    provenance.update(flatten_provenance(own_provenance))
    return deep_merge(parent_doc, raw), files


# --- validation -------------------------------------------------------------


def _unwrap(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def walk_key_path(
    loc: tuple[Any, ...], root: type[BaseModel] = Scenario
) -> tuple[list[str], type[BaseModel] | None]:
    """Clean key path of a pydantic error location, and the model owning its last key.

    Discriminator tags (``taper``, ``table`` ...) that pydantic puts in the location
    are dropped, so the path is the one the user wrote.
    """
    tp: Any = root
    clean: list[str] = []
    owner: type[BaseModel] | None = None
    for seg in loc:
        tp = _unwrap(tp)
        origin = typing.get_origin(tp)
        if origin in (typing.Union, types.UnionType):
            members = [_unwrap(a) for a in typing.get_args(tp)]
            tagged = [
                m
                for m in members
                if isinstance(m, type)
                and issubclass(m, BaseModel)
                and "kind" in m.model_fields
                and seg in typing.get_args(m.model_fields["kind"].annotation)
            ]
            if tagged:
                tp = tagged[0]
                continue
        clean.append(str(seg))
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            owner = tp
            info = tp.model_fields.get(str(seg))
            tp = info.annotation if info else None
        elif origin is dict:
            owner, tp = None, typing.get_args(tp)[1]
        elif origin is list:
            owner, tp = None, typing.get_args(tp)[0]
        else:
            owner, tp = None, None
    return clean, owner


def _error_message(error: Any, owner: type[BaseModel] | None, name: str) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = list(owner.model_fields) if owner else []
        hint = did_you_mean(name, allowed)
        return f"unknown key '{name}'{hint} (allowed: {', '.join(allowed)})"
    if kind == "missing":
        return "required key is missing"
    return f"{error['msg']} (got {error.get('input')!r})"


def validation_problems(
    exc: ValidationError, origin: dict[str, str], top: str, root: type[BaseModel] = Scenario
) -> list[str]:
    """One ``file: key: what`` line per pydantic error, with the key path the user wrote."""
    lines = []
    for error in exc.errors():
        clean, owner = walk_key_path(tuple(error["loc"]), root)
        key = ".".join(clean)
        name = clean[-1] if clean else ""
        owner_of_key = owner if error["type"] == "extra_forbidden" else None
        lines.append(
            problem_line(
                _origin_of(key, origin, top), key, _error_message(error, owner_of_key, name)
            )
        )
    return lines


def _origin_of(key: str, origin: dict[str, str], top: str) -> str:
    if key in origin:
        return origin[key]
    prefix = key + "."
    for path, file in origin.items():
        if path.startswith(prefix):
            return file
    parts = key.split(".")
    while parts:
        parts.pop()
        parent = ".".join(parts)
        if parent in origin:
            return origin[parent]
    return top


def validate_document(
    document: dict[str, Any], origin: dict[str, str], top: str, check_sets: bool = True
) -> Scenario:
    """Validate a resolved document; raise ``UserError`` listing every problem. With
    ``check_sets`` false its parameter sets are taken as checked (a study's point on a base
    whose sets were checked when it was loaded)."""
    try:
        scenario = Scenario.model_validate(document)
    except ValidationError as exc:
        raise UserError(validation_problems(exc, origin, top)) from None
    problems = scenario_problems(scenario)
    too_many = runs_problem(scenario.runs)
    if too_many is not None:
        problems.append(Problem("runs", too_many))
    lines = [problem_line(_origin_of(p.key, origin, top), p.key, p.message) for p in problems]
    if check_sets and scenario.parameter_sets is not None:
        lines += [
            problem_line(scenario.parameter_sets.file, where, what)
            for where, what in set_problems(scenario)
        ]
    if lines:
        raise UserError(lines)
    return scenario


def _provenance_problems(provenance: dict[str, str], top: str) -> list[str]:
    return [
        problem_line(top, f"provenance.{key}", problem)
        for key, text in provenance.items()
        if (problem := provenance_problem(text)) is not None
    ]


def load_config(
    path: str | Path,
    overrides: list[str] | tuple[str, ...] = (),
    options: dict[str, tuple[str, Any]] | None = None,
) -> LoadedConfig:
    """Read, resolve and validate a config file (or a run's ``manifest.json``).

    ``overrides`` are ``--set KEY=VALUE`` items; ``options`` maps a command-line
    option (e.g. ``--horizon``) to the config key it sets and its value.
    """
    path = Path(path)
    origin: dict[str, str] = {}
    provenance: dict[str, str] = {}
    if path.suffix == ".json":
        document, files = _read_manifest(path, origin, provenance)
    else:
        document, files = _resolve_file(path, (), origin, provenance)
        document.setdefault("name", path.stem)
        origin.setdefault("name", str(path))
    top = str(path)
    problems: list[str] = []  # every problem at once: a bad --set hides nothing else
    for item in overrides:
        try:
            key, value = parse_set(item)
            refuse_unsettable(document, key, top)
            apply_set(document, key, value)
        except UserError as exc:
            problems += exc.lines
            continue
        origin[key] = SET_ORIGIN
        provenance[key] = f"assumed: set on the command line (--set {key}={value})"
        if isinstance(document.get("parameter_sets"), dict):
            _fix_set_keys(document["parameter_sets"], {key: value})
    for option, (key, value) in (options or {}).items():
        try:
            apply_set(document, key, value)
        except UserError as exc:
            problems += exc.lines
            continue
        origin[key] = option
        provenance[key] = f"assumed: set on the command line ({option} {value})"
    problems += _provenance_problems(provenance, top)
    try:
        scenario = validate_document(document, origin, top)
    except UserError as exc:
        problems += exc.lines
    if problems:
        raise UserError(problems)
    return LoadedConfig(scenario, document, provenance, origin, files)


def refuse_unsettable(document: dict[str, Any], key: str, path: str) -> None:
    """``UserError`` for a ``--set`` key that could only be a mistake: parameter sets (a file
    a scenario names, not a value), or a key of a cluster the scenario does not have (which
    would start a new cluster with every other key missing)."""
    parts = key.split(".")
    if parts[0] == "parameter_sets":
        raise UserError(
            f"--set {key}: parameter sets are named in a scenario file, not set here; write a "
            'small scenario with extends = "<this scenario>" and parameter_sets = "<file>.csv"'
        )
    clusters = document.get("clusters")
    new_cluster = (
        parts[0] == "clusters"
        and len(parts) > 2
        and isinstance(clusters, dict)
        and parts[1] not in clusters
        and not any(c in parts[1] for c in "*?[")
    )
    if new_cluster:
        raise UserError(
            f"--set {key}: {path} has no cluster '{parts[1]}'; its clusters: "
            f"{', '.join(clusters)}{did_you_mean(parts[1], clusters)}"
        )


def _read_manifest(
    path: Path, origin: dict[str, str], provenance: dict[str, str]
) -> tuple[dict[str, Any], list[str]]:
    manifest = read_json(path, "a run's manifest.json")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("config"), dict):
        raise UserError(problem_line(str(path), "config", "not a clusterfund manifest"))
    for key in flatten(manifest["config"]):
        origin[key] = str(path)
    provenance.update(manifest.get("provenance", {}))
    return manifest["config"], [str(path)]
