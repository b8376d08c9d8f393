"""What experiment and policy files share: one parameter type, one way to load a file.

A *study file* (an experiment under ``configs/experiments/``, a policy under
``configs/policies/``) names a base scenario, keys it fixes, the parameters it varies, the
outcomes it measures and where its numbers come from. As in the EMA Workbench, an
uncertain input (experiment) and a lever (policy) are one type, :class:`Parameter`: a
range of values, or of factors on the base values, over any key ``--set`` accepts (a key
may be a pattern, :mod:`scenarios.config.keys`).

:func:`resolve_study` does what both loaders do once the file is parsed: load the base
(with ``fixed``), check the outcomes on it, cut the horizon to what the outcomes need,
resolve every parameter to the concrete keys it sets, and check the base at both ends of
every range. Every problem is reported at once, as ``file: key: what``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from scenarios.config.files import MAX_TOML_BYTES, file_problem, read_toml
from scenarios.config.keys import apply_set, flatten, is_table, match_keys
from scenarios.config.provenance import fixed_source, provenance_problem
from scenarios.config.scenario import (
    LoadedConfig,
    load_config,
    validate_document,
    validation_problems,
    walk_key_path,
)
from scenarios.core.errors import UserError, did_you_mean, problem_line
from simulator.outcomes import Outcome, last_year_needed, outcome_problems

HORIZON_KEY = "programme.horizon"


class StrictSpec(BaseModel):
    """Base of the experiment and policy file models: unknown keys refused, frozen, finite."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Parameter(StrictSpec):
    """A number a study varies (an uncertain input) or chooses (a lever): a range of values,
    or a range of factors on the base values."""

    range: tuple[float, float] | None = None
    """``[low, high]``: the value itself lies in this range."""
    scale: tuple[float, float] | None = None
    """``[low, high]``: one factor lies in this range and multiplies every matching base value."""
    distribution: Literal["uniform", "triangular", "normal"] = "uniform"
    """How a sampled value spreads over the range (experiments): uniform, triangular (with
    ``mode``), or normal (``mean``, ``sd``) truncated to the range."""
    mode: float | None = None
    """The peak of a triangular distribution (inside the range)."""
    mean: float | None = None
    """The mean of a normal distribution (before truncation to the range)."""
    sd: float | None = Field(default=None, gt=0)
    """The standard deviation of a normal distribution."""
    source: str = ""
    """Why this range: ``seed | sourced | derived | assumed: ...``."""
    label: str | None = Field(default=None, min_length=1, max_length=80)
    """The name charts and text give this input or lever (default: made from the key)."""

    @model_validator(mode="after")
    def _check(self) -> Parameter:
        if (self.range is None) == (self.scale is None):
            raise ValueError("give either 'range = [low, high]' or 'scale = [low, high]'")
        low, high = self.bounds
        if not low < high:
            raise ValueError(f"the range [{low}, {high}] is empty or inverted; low must be < high")
        if self.distribution == "triangular" and (
            self.mode is None or not low <= self.mode <= high
        ):
            raise ValueError("a triangular distribution needs 'mode' inside the range")
        if self.distribution == "normal" and (self.mean is None or self.sd is None):
            raise ValueError("a normal distribution needs 'mean' and 'sd'")
        return self

    @property
    def bounds(self) -> tuple[float, float]:
        """(low, high) of the number (a value, or a factor for ``scale``)."""
        pair = self.range if self.range is not None else self.scale
        assert pair is not None
        return pair


@dataclass(frozen=True)
class ResolvedParameter:
    """A parameter resolved against the base scenario: the concrete keys it sets."""

    name: str
    """The key as written in the file (may be a pattern)."""
    spec: Parameter
    keys: tuple[str, ...]
    """The concrete config keys it sets."""
    base_values: tuple[Any, ...]
    """Each key's value in the base scenario (``None`` where the key is new)."""
    integer: tuple[bool, ...]
    """Whether each key holds a whole number (set values are rounded)."""

    def overrides(self, number: float) -> dict[str, Any]:
        """Config key → value for one number of the parameter."""
        out: dict[str, Any] = {}
        for key, base, whole in zip(self.keys, self.base_values, self.integer, strict=True):
            value = number * base if self.spec.scale is not None else number
            out[key] = round(value) if whole else float(value)
        return out

    def used(self, number: float) -> float:
        """The number a run used for ``number``: rounded when a ``range`` sets whole-number
        keys only (a ``scale`` parameter's number is its factor, as given)."""
        if self.spec.scale is None and all(self.integer):
            return float(round(number))
        return float(number)


@dataclass(frozen=True)
class Study:
    """A loaded, checked study file: its base document and resolved parameters."""

    path: Path
    spec: Any
    """The file as written (an ``ExperimentSpec`` or a ``PolicySpec``)."""
    base: LoadedConfig | None
    """The base scenario (``None`` for a test model that is not the simulator)."""
    document: dict[str, Any]
    """The base scenario's resolved document with ``fixed`` and the horizon applied."""
    parameters: tuple[ResolvedParameter, ...]

    @property
    def outcome_names(self) -> list[str]:
        """The outcomes' names, in file order."""
        return list(self.spec.outcomes)

    @property
    def parameter_names(self) -> list[str]:
        """The parameters' names, in file order."""
        return [p.name for p in self.parameters]

    def overrides(self, row: Any) -> dict[str, Any]:
        """Config key → value for one point (``row``: one number per parameter)."""
        out: dict[str, Any] = {}
        for parameter, value in zip(self.parameters, row, strict=True):
            out.update(parameter.overrides(float(value)))
        return out

    def values_used(self, row: Any) -> list[float]:
        """The numbers the runs of one point used (whole-number parameters rounded)."""
        return [p.used(float(value)) for p, value in zip(self.parameters, row, strict=True)]


def read_spec(path: Path, model: type[BaseModel], what: str) -> Any:
    """The study file at ``path`` validated as ``model``; every problem at once."""
    raw = read_toml(path, what)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise UserError(validation_problems(exc, {}, str(path), root=model)) from None


def unknown_outcome(path: Path, where: str, name: str, known: list[str]) -> str:
    """The line for a name that is not one of the file's outcomes (with a did-you-mean)."""
    hint = did_you_mean(name, known)
    return problem_line(
        str(path),
        where,
        f"'{name}' is not an outcome of this file{hint} (defined: {', '.join(known)})",
    )


def provenance_problems(path: Path, entries: Mapping[str, str]) -> list[str]:
    """Entries (key → text) whose text breaks the provenance rule; an empty ``source`` is
    allowed (the range is then unlabelled)."""
    return [
        problem_line(str(path), key, problem)
        for key, text in entries.items()
        if text and (problem := provenance_problem(text)) is not None
    ]


def key_problem(key: str, document: dict[str, Any], flat: dict[str, Any]) -> str | None:
    """Why ``key`` names nothing settable in ``document`` (``None`` if it does).

    A key is settable when it names a value, or a new entry in an existing open
    table (such as a new year in a ``table`` schedule); a new name in a table with
    fixed fields (``members.churm``) is a typo.
    """
    if key in flat:
        if isinstance(flat[key], bool) or not isinstance(flat[key], int | float):
            return f"'{key}' holds {flat[key]!r}, not a number"
        return None
    parent = key.rsplit(".", 1)[0] if "." in key else ""
    _, owner = walk_key_path(tuple(key.split(".")))
    known_field = owner is None or key.rsplit(".", 1)[-1] in owner.model_fields
    if parent and is_table(document, parent) and known_field:
        return None
    hint = did_you_mean(key, flat)
    return f"'{key}' is not a key of the base scenario{hint}"


def resolve_parameters(
    path: Path, items: Mapping[str, Parameter], document: dict[str, Any], section: str
) -> tuple[list[ResolvedParameter], list[str]]:
    """Resolve each parameter against the base document; (parameters, problems)."""
    flat = flatten(document)
    resolved, problems = [], []
    for name, spec in items.items():
        keys = match_keys(name, flat)
        where = f"{section}.{name}"
        if not keys:
            problems.append(problem_line(str(path), where, f"'{name}' matches no key of the base"))
            continue
        bad = [p for p in (key_problem(k, document, flat) for k in keys) if p]
        if bad:
            problems.extend(problem_line(str(path), where, p) for p in bad)
            continue
        base_values = tuple(flat.get(k) for k in keys)
        if spec.scale is not None and any(v is None for v in base_values):
            problems.append(
                problem_line(str(path), where, "'scale' needs a base value; use 'range'")
            )
            continue
        integer = tuple(isinstance(v, int) and not isinstance(v, bool) for v in base_values)
        resolved.append(ResolvedParameter(name, spec, tuple(keys), base_values, integer))
    return resolved, problems


def _invalid_because(
    document: dict[str, Any], path: Path, items: list[tuple[ResolvedParameter, float]]
) -> str | None:
    """Why ``document`` with each parameter set to its value is invalid (``None`` if valid)."""
    trial = copy.deepcopy(document)
    for item, value in items:
        for key, setting in item.overrides(value).items():
            apply_set(trial, key, setting)
    try:
        validate_document(trial, {}, str(path))
    except UserError as exc:
        return "; ".join(line.split(": ", 1)[-1] for line in exc.lines)
    return None


def bounds_problems(
    path: Path, parameters: list[ResolvedParameter], document: dict[str, Any], section: str
) -> list[str]:
    """Problems of the base scenario with every parameter at the low (then high) end of its
    range at once, each blamed on the parameters that break it alone where they do.

    Checking the ends together, not one at a time, lets parameters that only make sense
    together pass (levers adding 2022, 2023 ... to a year table).
    """
    problems = []
    for end, name in ((0, "low"), (1, "high")):
        corner = [(item, item.spec.bounds[end]) for item in parameters]
        if _invalid_because(document, path, corner) is None:
            continue
        # blame those without which the corner is valid; failing that, those that
        # break the scenario on their own; failing that, the corner as a whole
        culprits = [
            (item, value)
            for item, value in corner
            if _invalid_because(document, path, [c for c in corner if c[0] is not item]) is None
        ] or [c for c in corner if _invalid_because(document, path, [c]) is not None]
        for item, value in culprits:
            reason = _invalid_because(document, path, [(item, value)]) or _invalid_because(
                document, path, corner
            )
            problems.append(
                problem_line(
                    str(path),
                    f"{section}.{item.name}",
                    f"at {value} the scenario is invalid: {reason}",
                )
            )
        if not culprits:
            reason = _invalid_because(document, path, corner)
            problems.append(
                problem_line(
                    str(path),
                    section,
                    f"with every range at its {name} end the scenario is invalid: {reason}",
                )
            )
    return problems


def load_base(
    path: Path, base: str, fixed: dict[str, Any], provenance: Mapping[str, str]
) -> LoadedConfig:
    """The base scenario (relative to ``path``) with the ``fixed`` keys applied (each
    labelled by :func:`scenarios.config.provenance.fixed_source`)."""
    base_path = path.parent / base
    problem = file_problem(base_path, "a scenario file", MAX_TOML_BYTES)
    if problem is not None:
        raise UserError(problem_line(str(path), "base", f"{base_path}: {problem}"))
    loaded = load_config(base_path)
    if not fixed:
        return loaded
    document = copy.deepcopy(loaded.document)
    for key, value in fixed.items():
        apply_set(document, key, value)
        loaded.provenance[key] = fixed_source(path.name, provenance, key)
    scenario = validate_document(document, {k: str(path) for k in fixed}, str(path))
    return LoadedConfig(scenario, document, loaded.provenance, loaded.origin, loaded.files)


def default_horizon(loaded: LoadedConfig, outcomes: list[Outcome]) -> int:
    """The last year an outcome needs, but at least the target year."""
    target = loaded.scenario.programme.target_year
    return (
        max(last_year_needed(outcomes), target) if outcomes else loaded.scenario.programme.horizon
    )


def horizon_problems(
    path: Path,
    horizon: int | None,
    parameters: list[ResolvedParameter],
    needs: dict[str, int],
    section: str,
) -> list[str]:
    """An explicit ``horizon``, or a parameter on ``programme.horizon``, that ends a run
    before the last year an outcome (or an observation) needs: that year would score 0.

    ``needs`` maps what needs a year (``outcome 'm'``) to the last year it measures.
    """
    if not needs:
        return []
    who, year = max(needs.items(), key=lambda item: item[1])
    problems = []
    if horizon is not None and horizon < year:
        problems.append(
            problem_line(
                str(path),
                "horizon",
                f"{horizon} is before {year}, the last year {who} needs; set horizon to "
                f"{year} or later, or leave it out",
            )
        )
    for item in parameters:
        if HORIZON_KEY not in item.keys:
            continue
        lowest = min(item.overrides(end)[HORIZON_KEY] for end in item.spec.bounds)
        if lowest < year:
            problems.append(
                problem_line(
                    str(path),
                    f"{section}.{item.name}",
                    f"reaches horizon {lowest}, before {year}, the last year {who} needs; "
                    f"start the range at {year} or later",
                )
            )
    return problems


def constant_problems(path: Path, parameters: list[ResolvedParameter], section: str) -> list[str]:
    """Parameters that set the same values at both ends of their range, so at every point: a
    range on a whole-number key that rounds to one number ([2.6, 3.4] on
    ``management.closure_years`` is always 3), or a ``scale`` of base values that are all 0."""
    problems = []
    for item in parameters:
        low, high = item.spec.bounds
        if item.overrides(low) == item.overrides(high):
            problems.append(
                problem_line(
                    str(path),
                    f"{section}.{item.name}",
                    f"sets the same values at both ends of [{low}, {high}] (whole-number keys "
                    "are rounded; a scale of 0 stays 0), so it would never vary; widen the "
                    "range",
                )
            )
    return problems


@dataclass(frozen=True)
class ResolvedStudy:
    """What :func:`resolve_study` found: the base, the outcomes valid on it, the document cut
    to the horizon, the parameters, and every problem (empty when the file is good)."""

    base: LoadedConfig
    outcomes: dict[str, Outcome]
    document: dict[str, Any]
    parameters: list[ResolvedParameter]
    problems: list[str]


def resolve_study(
    path: Path,
    spec: Any,
    parameters: Mapping[str, Parameter],
    section: str,
    found: list[str],
    measured: Callable[[LoadedConfig], tuple[dict[str, Outcome], list[str]]] | None = None,
) -> ResolvedStudy:
    """Load the base of a parsed study file and resolve its parameters on it.

    ``spec`` has ``base``, ``fixed``, ``outcomes``, ``horizon`` and ``provenance``; ``found``
    are the problems of the file alone (a broken base is a ``UserError`` listing them first,
    so it hides none). ``measured`` names further outcomes the horizon must reach (an
    experiment's observations), with their problems.
    """
    try:
        loaded = load_base(path, spec.base, spec.fixed, spec.provenance)
    except UserError as exc:
        raise UserError([*found, *exc.lines]) from None
    problems = list(found)
    outcomes: dict[str, Outcome] = {}
    for name, outcome in spec.outcomes.items():
        wrong = outcome_problems(outcome, loaded.scenario)
        problems += [problem_line(str(path), f"outcomes.{name}", p) for p in wrong]
        if not wrong:
            outcomes[name] = outcome
    needs = {f"outcome '{name}'": o.span[1] for name, o in outcomes.items()}
    extra: dict[str, Outcome] = {}
    if measured is not None:
        extra, extra_problems = measured(loaded)
        problems += extra_problems
        needs |= {name: o.span[1] for name, o in extra.items()}
    horizon = spec.horizon or default_horizon(loaded, [*outcomes.values(), *extra.values()])
    document = copy.deepcopy(loaded.document)
    document.setdefault("programme", {})["horizon"] = horizon
    try:
        validate_document(document, {HORIZON_KEY: str(path)}, str(path))
    except UserError as exc:
        raise UserError([*problems, *exc.lines]) from None
    resolved, resolve_problems = resolve_parameters(path, parameters, document, section)
    problems += resolve_problems
    problems += horizon_problems(path, spec.horizon, resolved, needs, section)
    problems += constant_problems(path, resolved, section)
    problems += bounds_problems(path, resolved, document, section)
    return ResolvedStudy(loaded, outcomes, document, resolved, problems)
