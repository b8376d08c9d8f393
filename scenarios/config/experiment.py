"""Experiment files: which assumptions are uncertain, how to sample them, what to measure.

An experiment file (TOML, under ``configs/experiments/``) names a base scenario,
a design (``sobol | morris | lhs | grid``), the uncertain inputs (any key that
``--set`` accepts; a ``*`` segment matches every key at that place), the
outcomes, and optionally a ``[discover]`` condition for scenario discovery.

Loading reports every problem at once, each as ``file: key: what``, and checks
the base scenario at both ends of every range, so a sampled point never turns
out to be an invalid scenario halfway through a long experiment.
"""

from __future__ import annotations

import copy
import difflib
import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from scenarios.analysis import sensitivity as designs
from scenarios.analysis.calibration import Target, calibration_targets
from scenarios.config.files import MAX_TOML_BYTES, file_problem, read_toml
from scenarios.config.job_size import model_runs_problem, points_problem, runs_problem
from scenarios.config.scenario import (
    LoadedConfig,
    apply_set,
    flatten,
    load_config,
    validate_document,
    validation_problems,
    walk_key_path,
)
from scenarios.core.errors import UserError, problem_line
from simulator.outcomes import Outcome, last_year_needed, outcome_problems

Design = Literal["sobol", "morris", "lhs", "grid"]
HORIZON_KEY = "programme.horizon"
PROVENANCE_KINDS = ("seed", "sourced", "derived", "assumed")


class StrictSpec(BaseModel):
    """Base of the experiment and policy file models: unknown keys refused, frozen."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, use_attribute_docstrings=True, allow_inf_nan=False
    )


class Uncertain(StrictSpec):
    """One uncertain input: a range of values, or a range of factors on the base values."""

    range: tuple[float, float] | None = None
    """``[low, high]``: the value itself is sampled in this range."""
    scale: tuple[float, float] | None = None
    """``[low, high]``: one factor is sampled and multiplies every matching base value."""
    distribution: Literal["uniform", "triangular", "normal"] = "uniform"
    """How values spread over the range: uniform, triangular (with ``mode``), or
    normal (``mean``, ``sd``) truncated to the range."""
    mode: float | None = None
    """The peak of a triangular distribution (inside the range)."""
    mean: float | None = None
    """The mean of a normal distribution (before truncation to the range)."""
    sd: float | None = Field(default=None, gt=0)
    """The standard deviation of a normal distribution."""
    source: str = ""
    """Why this range: ``seed | sourced | derived | assumed: ...``."""

    @model_validator(mode="after")
    def _check(self) -> Uncertain:
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
        """(low, high) of the sampled number (a value, or a factor for ``scale``)."""
        pair = self.range if self.range is not None else self.scale
        assert pair is not None
        return pair


class Discover(StrictSpec):
    """Scenario discovery: which points are "of interest", and how dense a box must be."""

    outcome: str
    """The outcome (by name) whose statistic decides."""
    above: float | None = None
    """Points whose statistic is above this are of interest."""
    below: float | None = None
    """Points whose statistic is below this are of interest."""
    min_density: float = Field(default=0.8, gt=0, le=1)
    """The chosen box is the one with the largest coverage among those at least this dense."""

    @model_validator(mode="after")
    def _one_threshold(self) -> Discover:
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of 'above' or 'below'")
        return self


class Calibrate(StrictSpec):
    """History matching against observed figures (see :mod:`scenarios.analysis.calibration`)."""

    observations: str
    """An observations CSV (the format of ``configs/observations.csv``), relative to this file."""
    hold_out: list[str] = Field(default_factory=list)
    """Observations (``cluster:year:metric``) measured and reported but not used to choose."""
    tolerance: float = Field(default=0.1, gt=0)
    """Observation error and model discrepancy, as a share of the observed value."""
    cutoff: float = Field(default=3.0, gt=0)
    """Points whose largest implausibility is above this are ruled out."""


class ExperimentSpec(StrictSpec):
    """An experiment file as written."""

    name: str
    """Names the results folder (``results/<name>``)."""
    description: str = ""
    base: str
    """The scenario every point starts from (a path relative to this file)."""
    design: Design
    """``sobol`` (Saltelli, first and total order), ``morris`` (elementary effects),
    ``lhs`` (Latin hypercube) or ``grid`` (full factorial)."""
    samples: int
    """Sobol base N (N·(k+2) points, a power of two), Morris trajectories
    (r·(k+1) points), LHS points, or grid levels per input (levels^k points); at least
    ``designs.MINIMUM_SAMPLES`` (SALib's analysis is undefined below it)."""
    replications: int = Field(default=10, ge=1)
    """Model runs per point; replication r uses the same seed at every point."""
    seed: int = Field(default=0, ge=0)
    """Seeds the design and the replications."""
    levels: int = Field(default=4, ge=2)
    """Morris grid levels."""
    horizon: int | None = None
    """Last simulated year [default: the last year an outcome needs, at least the
    target year]; later years cannot change earlier ones, so this only saves time."""
    fixed: dict[str, Any] = {}
    """Keys set to one value at every point (like ``--set``)."""
    uncertain: dict[str, Uncertain] = Field(min_length=1)
    """Key → its uncertainty."""
    outcomes: dict[str, Outcome] = Field(min_length=1)
    """Name → what to measure."""
    discover: Discover | None = None
    """Scenario discovery (PRIM) on one outcome."""
    calibrate: Calibrate | None = None
    """History matching against an observations file; writes the best point as a scenario."""
    provenance: dict[str, str] = {}
    """Where numbers other than the ranges come from (e.g. ``samples``)."""


@dataclass(frozen=True)
class UncertainInput:
    """An uncertain input resolved against the base scenario."""

    name: str
    """The key as written in the file (may hold ``*``)."""
    spec: Uncertain
    keys: tuple[str, ...]
    """The concrete config keys it sets."""
    base_values: tuple[Any, ...]
    """Each key's value in the base scenario (``None`` where the key is new)."""
    integer: tuple[bool, ...]
    """Whether each key holds a whole number (sampled values are rounded)."""

    def overrides(self, sampled: float) -> dict[str, Any]:
        """Config key → value for one sampled number."""
        out: dict[str, Any] = {}
        for key, base, whole in zip(self.keys, self.base_values, self.integer, strict=True):
            value = sampled * base if self.spec.scale is not None else sampled
            out[key] = round(value) if whole else float(value)
        return out

    def used(self, sampled: float) -> float:
        """The number a run used for ``sampled``: rounded when a ``range`` sets whole-number
        keys only (a ``scale`` input's number is its factor, as sampled)."""
        if self.spec.scale is None and all(self.integer):
            return float(round(sampled))
        return float(sampled)


@dataclass(frozen=True)
class Experiment:
    """A loaded, checked experiment: the base document and the resolved inputs."""

    path: Path
    spec: ExperimentSpec
    base: LoadedConfig | None
    """The base scenario (``None`` for a test model that is not the simulator)."""
    document: dict[str, Any]
    """The base scenario's resolved document with ``fixed`` and the horizon applied."""
    inputs: tuple[UncertainInput, ...]
    targets: tuple[Target, ...] = ()
    """Observations to calibrate against (empty without ``[calibrate]``)."""

    @property
    def warnings(self) -> list[str]:
        """What the user should know before the runs start, though nothing is wrong: a
        design too small for its sensitivity analysis (the outcomes and the discovery are
        computed as usual; ``sensitivity.csv`` then says why it holds no indices)."""
        spec = self.spec
        least, why = designs.MINIMUM_SAMPLES[spec.design]
        if spec.design in designs.ANALYSIS_ONLY_MINIMUM and spec.samples < least:
            return [
                problem_line(
                    str(self.path),
                    "samples",
                    f"{spec.samples} points are too few to rank the inputs by "
                    f"{designs.ANALYSIS_NAME[spec.design]} (at least {least}: {why}); the "
                    "outcomes and the discovery are computed, sensitivity.csv holds no indices",
                )
            ]
        return []

    @property
    def input_names(self) -> list[str]:
        """The uncertain inputs' names, in file order."""
        return [i.name for i in self.inputs]

    @property
    def outcome_names(self) -> list[str]:
        """The outcomes' names, in file order."""
        return list(self.spec.outcomes)

    @property
    def model_runs(self) -> int:
        """Runs of the whole experiment: every point's replications (with ``[calibrate]``,
        the base scenario's too)."""
        spec = self.spec
        points = designs.point_count(spec.design, spec.samples, len(self.inputs))
        return (points + (1 if self.targets else 0)) * spec.replications

    def point_overrides(self, row: Any) -> dict[str, Any]:
        """Config key → value for one point (``row``: one sampled number per input)."""
        out: dict[str, Any] = {}
        for item, value in zip(self.inputs, row, strict=True):
            out.update(item.overrides(float(value)))
        return out

    def point_values(self, row: Any) -> list[float]:
        """The numbers the runs of one point used (whole-number inputs rounded)."""
        return [item.used(float(value)) for item, value in zip(self.inputs, row, strict=True)]


def parse_spec(path: Path, raw: dict[str, Any], model: type[BaseModel]) -> Any:
    """Validate ``raw`` as ``model``; every problem at once, as ``file: key: what``."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise UserError(validation_problems(exc, {}, str(path), root=model)) from None


def match_keys(pattern: str, flat: dict[str, Any]) -> list[str]:
    """The keys of ``flat`` that ``pattern`` names (``*`` matches one whole segment)."""
    if "*" not in pattern:
        return [pattern]
    parts = pattern.split(".")
    return [
        key
        for key in flat
        if len(key.split(".")) == len(parts)
        and all(
            fnmatch.fnmatchcase(seg, want) for seg, want in zip(key.split("."), parts, strict=True)
        )
    ]


def _is_table(document: dict[str, Any], dotted: str) -> bool:
    node: Any = document
    for part in dotted.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return isinstance(node, dict)


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
    if parent and _is_table(document, parent) and known_field:
        return None
    guess = difflib.get_close_matches(key, list(flat), n=1)
    hint = f"; did you mean '{guess[0]}'?" if guess else ""
    return f"'{key}' is not a key of the base scenario{hint}"


def resolve_inputs(
    path: Path, items: dict[str, Uncertain], document: dict[str, Any], section: str
) -> tuple[list[UncertainInput], list[str]]:
    """Resolve each uncertain key (or lever) against the base document; (inputs, problems)."""
    flat = flatten(document)
    inputs, problems = [], []
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
        inputs.append(UncertainInput(name, spec, tuple(keys), base_values, integer))
    return inputs, problems


def _invalid_because(
    document: dict[str, Any], path: Path, items: list[tuple[UncertainInput, float]]
) -> str | None:
    """Why ``document`` with each input set to its value is invalid (``None`` if valid)."""
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
    path: Path, inputs: list[UncertainInput], document: dict[str, Any], section: str
) -> list[str]:
    """Problems of the base scenario with every input at the low (then high) end of its
    range at once, each blamed on the inputs that break it alone where they do.

    Checking the ends together, not one input at a time, lets inputs that only make
    sense together pass (levers adding 2022, 2023 ... to a year table).
    """
    problems = []
    for end, name in ((0, "low"), (1, "high")):
        corner = [(item, item.spec.bounds[end]) for item in inputs]
        if _invalid_because(document, path, corner) is None:
            continue
        # blame the inputs without which the corner is valid; failing that, those that
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


def provenance_problems(path: Path, entries: dict[str, str]) -> list[str]:
    """Entries (key → text) whose text does not start with a provenance kind."""
    return [
        problem_line(
            str(path),
            key,
            f"'{text}' must start with one of {', '.join(PROVENANCE_KINDS)} and a colon",
        )
        for key, text in entries.items()
        if text and text.split(":", 1)[0].strip() not in PROVENANCE_KINDS
    ]


def load_base(path: Path, base: str, fixed: dict[str, Any]) -> LoadedConfig:
    """The base scenario (relative to ``path``) with the ``fixed`` keys applied."""
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
        loaded.provenance[key] = f"assumed: fixed by the experiment {path.name}"
    scenario = validate_document(document, {k: str(path) for k in fixed}, str(path))
    return LoadedConfig(scenario, document, loaded.provenance, loaded.origin, loaded.files)


def base_and_outcomes(
    path: Path, base: str, fixed: dict[str, Any], outcomes: dict[str, Outcome], found: list[str]
) -> tuple[LoadedConfig, dict[str, Outcome], list[str]]:
    """The base scenario (see :func:`load_base`), the outcomes valid on it, and a line for
    each problem of the others. A broken base is a ``UserError`` listing ``found`` (the
    problems of the file found so far) first, so that it hides none of them."""
    try:
        loaded = load_base(path, base, fixed)
    except UserError as exc:
        raise UserError([*found, *exc.lines]) from None
    valid: dict[str, Outcome] = {}
    problems: list[str] = []
    for name, outcome in outcomes.items():
        wrong = outcome_problems(outcome, loaded.scenario)
        problems += [problem_line(str(path), f"outcomes.{name}", p) for p in wrong]
        if not wrong:
            valid[name] = outcome
    return loaded, valid, problems


def with_horizon(
    loaded: LoadedConfig, horizon: int, path: Path, found: list[str] | None = None
) -> dict[str, Any]:
    """The base document cut (or extended) to ``horizon``, checked; a ``UserError`` lists
    ``found`` (the problems found so far) before the horizon's."""
    document = copy.deepcopy(loaded.document)
    document.setdefault("programme", {})["horizon"] = horizon
    try:
        validate_document(document, {HORIZON_KEY: str(path)}, str(path))
    except UserError as exc:
        raise UserError([*(found or []), *exc.lines]) from None
    return document


def default_horizon(loaded: LoadedConfig, outcomes: list[Outcome]) -> int:
    """The last year an outcome needs, but at least the target year."""
    target = loaded.scenario.programme.target_year
    return (
        max(last_year_needed(outcomes), target) if outcomes else loaded.scenario.programme.horizon
    )


def horizon_problems(
    path: Path,
    horizon: int | None,
    inputs: list[UncertainInput],
    needs: dict[str, int],
    section: str,
) -> list[str]:
    """An explicit ``horizon``, or an input on ``programme.horizon``, that ends a run before
    the last year an outcome (or an observation) needs: that year would score 0.

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
    for item in inputs:
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


def constant_problems(path: Path, inputs: list[UncertainInput], section: str) -> list[str]:
    """Inputs that set the same values at both ends of their range, so at every point: a
    range on a whole-number key that rounds to one number ([2.6, 3.4] on
    ``management.closure_years`` is always 3), or a ``scale`` of base values that are all 0."""
    problems = []
    for item in inputs:
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


def design_problems(path: Path, spec: ExperimentSpec) -> list[str]:
    """Problems with the design's size: below the least SALib can analyse (with why), not a
    power of two for Sobol', odd Morris levels, or more points or runs than allowed."""
    where = str(path)
    least, why = designs.MINIMUM_SAMPLES[spec.design]
    if spec.samples < least and spec.design not in designs.ANALYSIS_ONLY_MINIMUM:
        return [
            problem_line(
                where,
                "samples",
                f"must be at least {least} for design = '{spec.design}' (got {spec.samples}): "
                f"{why}",
            )
        ]
    problems = []
    if spec.design == "sobol" and spec.samples & (spec.samples - 1):
        below = 1 << (spec.samples.bit_length() - 1)
        problems.append(
            problem_line(
                where,
                "samples",
                f"{spec.samples} is not a power of two; Sobol' sequences are balanced, and "
                f"Saltelli's estimates converge as they should, only at N = 2^m "
                f"(try {below} or {below * 2})",
            )
        )
    if spec.design == "morris" and spec.levels % 2:
        problems.append(
            problem_line(
                where,
                "levels",
                f"{spec.levels} is odd; SALib's Morris sampler needs an even number of levels "
                "(with an odd number its grid never reaches the top of a range)",
            )
        )
    points = designs.point_count(spec.design, spec.samples, len(spec.uncertain))
    too_many = points_problem(points) or model_runs_problem(points, spec.replications)
    if too_many is not None:
        problems.append(
            problem_line(
                where,
                "samples",
                f"design = '{spec.design}' with samples = {spec.samples} and "
                f"{len(spec.uncertain)} input(s): {too_many}",
            )
        )
    too_long = runs_problem(spec.replications)
    if too_long is not None:
        problems.append(problem_line(where, "replications", too_long))
    return problems


def _spec_problems(path: Path, spec: ExperimentSpec) -> list[str]:
    """The problems found in the file alone, without its base scenario."""
    problems = design_problems(path, spec)
    if spec.discover is not None and spec.discover.outcome not in spec.outcomes:
        guess = difflib.get_close_matches(spec.discover.outcome, list(spec.outcomes), n=1)
        hint = f"; did you mean '{guess[0]}'?" if guess else ""
        problems.append(
            problem_line(
                str(path),
                "discover.outcome",
                f"'{spec.discover.outcome}' is not an outcome of this file{hint} "
                f"(defined: {', '.join(spec.outcomes)})",
            )
        )
    problems.extend(
        provenance_problems(
            path, {f"uncertain.{k}.source": u.source for k, u in spec.uncertain.items()}
        )
    )
    problems.extend(
        provenance_problems(path, {f"provenance.{k}": v for k, v in spec.provenance.items()})
    )
    return problems


def load_experiment(path: str | Path) -> Experiment:
    """Read, resolve and check an experiment file; ``UserError`` lists every problem."""
    path = Path(path)
    spec: ExperimentSpec = parse_spec(path, read_toml(path, "an experiment file"), ExperimentSpec)
    problems = _spec_problems(path, spec)
    loaded, valid, outcome_lines = base_and_outcomes(
        path, spec.base, spec.fixed, spec.outcomes, problems
    )
    problems += outcome_lines
    targets: list[Target] = []
    if spec.calibrate is not None:
        calibrate = spec.calibrate
        try:
            targets = calibration_targets(
                path, path.parent / calibrate.observations, calibrate.hold_out, loaded.scenario
            )
        except UserError as exc:
            problems.extend(exc.lines)
    needs = {f"outcome '{name}'": o.span[1] for name, o in valid.items()}
    needs |= {f"observation '{t.name}'": t.outcome.span[1] for t in targets}
    horizon = spec.horizon or default_horizon(
        loaded, [*valid.values(), *(t.outcome for t in targets)]
    )
    document = with_horizon(loaded, horizon, path, problems)
    inputs, input_problems = resolve_inputs(path, spec.uncertain, document, "uncertain")
    problems.extend(input_problems)
    problems.extend(horizon_problems(path, spec.horizon, inputs, needs, "uncertain"))
    problems.extend(constant_problems(path, inputs, "uncertain"))
    problems.extend(bounds_problems(path, inputs, document, "uncertain"))
    if problems:
        raise UserError(problems)
    return Experiment(path, spec, loaded, document, tuple(inputs), tuple(targets))
