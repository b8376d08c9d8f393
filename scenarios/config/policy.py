"""Policy files: which levers the optimiser may move, what to minimise, what must hold.

A policy file (TOML, under ``configs/policies/``) names a base scenario, the
levers (any key ``--set`` accepts, each with a range; a key with a pattern
segment sets every match to the same value), the outcomes (the same syntax as
an experiment's), the objectives and the constraints. Loading reports every
problem at once and checks the base scenario at both ends of every lever.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from scenarios.config.job_size import points_problem, runs_problem, search_problem
from scenarios.config.study_file import (
    Parameter,
    ResolvedParameter,
    StrictSpec,
    Study,
    provenance_problems,
    read_spec,
    resolve_study,
    unknown_outcome,
)
from scenarios.core.errors import UserError, problem_line
from simulator.outcomes import Outcome

DEFAULT_BUDGET = 300
LEVER_RESOLUTION = 0.01
"""The grid every lever's candidate value is rounded to, in the lever's own unit (0.01 MSEK
for money): a budget is not set to 16 digits, and a year-to-year path does not jitter by
amounts nobody would pay."""
YEAR_KEY = re.compile(r"^(?P<path>.+)\.(?P<year>(19|20|21)\d\d)$")
"""A lever key ending in a year (``base_funding.default.values.2022``): one step of a year
path whose other steps share the part before the year."""


class Bound(StrictSpec):
    """A constraint on an outcome's statistic."""

    at_least: float | None = None
    at_most: float | None = None

    @model_validator(mode="after")
    def _one(self) -> Bound:
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError("give exactly one of 'at_least' or 'at_most'")
        return self

    def violation(self, value: float) -> float:
        """How far ``value`` is on the wrong side (≤ 0 when the constraint holds)."""
        if self.at_least is not None:
            return self.at_least - value
        assert self.at_most is not None
        return value - self.at_most

    def text(self) -> str:
        """``at least 0.9`` or ``at most 3``."""
        return (
            f"at least {self.at_least}" if self.at_least is not None else f"at most {self.at_most}"
        )


class Objective(StrictSpec):
    """What to minimise (and maximise); two or more names give a Pareto front."""

    minimise: list[str] = Field(default_factory=list)
    maximise: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _some(self) -> Objective:
        if not self.minimise and not self.maximise:
            raise ValueError("name at least one outcome under 'minimise' or 'maximise'")
        return self

    @property
    def names(self) -> list[str]:
        """The objective outcomes, minimised ones first."""
        return [*self.minimise, *self.maximise]

    def sign(self, name: str) -> float:
        """+1 for a minimised outcome, -1 for a maximised one (the optimiser minimises)."""
        return 1.0 if name in self.minimise else -1.0


class YearPaths(StrictSpec):
    """A rule every year path of levers keeps (levers whose keys differ only in their final
    year, such as ``base_funding.default.values.2019`` … ``.2025``). Each candidate is
    mended in year order before it is run: a year that breaks the rule is moved to the
    nearest value that keeps it, so pymoo searches only paths a budget could be written as."""

    direction: Literal["any", "non_increasing", "non_decreasing"] = "any"
    """``non_increasing``: no year above the year before (a taper); ``non_decreasing``: no
    year below it; ``any``: either way."""
    max_step: float | None = Field(default=None, gt=0)
    """The most a lever may change from one year to the next, in its own unit (MSEK for
    money), on the levers' 0.01 grid."""

    @model_validator(mode="after")
    def _some_rule(self) -> YearPaths:
        if self.direction == "any" and self.max_step is None:
            raise ValueError(
                "give 'direction' (non_increasing or non_decreasing), 'max_step', or both"
            )
        return self


class PolicySpec(StrictSpec):
    """A policy file as written."""

    name: str
    """Names the results folder (``results/<name>``)."""
    description: str = ""
    base: str
    """The scenario the levers change (a path relative to this file)."""
    replications: int = Field(default=50, ge=1)
    """Runs per candidate; every candidate sees the same seeds (common random numbers)."""
    seed: int = Field(default=0, ge=0)
    """Seeds the replications and the search."""
    budget: int = Field(default=DEFAULT_BUDGET, ge=3)
    """Evaluations (candidates × their replications) the search may spend."""
    population: int = Field(default=20, ge=4)
    """Candidates per generation."""
    out_of_sample_replications: int | None = Field(default=None, ge=1)
    """Runs of the chosen policies on fresh seeds [default: ``replications``]."""
    horizon: int | None = None
    """Last simulated year [default: the last year an outcome needs, at least the target year]."""
    fixed: dict[str, Any] = Field(default_factory=dict)
    """Keys set to one value for every candidate (like ``--set``)."""
    levers: dict[str, Parameter] = Field(min_length=1)
    """Key → its range."""
    outcomes: dict[str, Outcome] = Field(min_length=1)
    """Name → what to measure."""
    objective: Objective
    constraints: dict[str, Bound] = Field(default_factory=dict)
    """Outcome name → the bound its statistic must keep."""
    year_paths: YearPaths | None = None
    """A smoothness rule for the levers' year paths [default: none, every year free]."""
    provenance: dict[str, str] = Field(default_factory=dict)
    """Where numbers other than the lever ranges come from."""


@dataclass(frozen=True)
class Policy(Study):
    """A loaded, checked policy file: its base document and its levers."""

    spec: PolicySpec

    @property
    def levers(self) -> tuple[ResolvedParameter, ...]:
        """The levers, in file order."""
        return self.parameters

    @property
    def lever_names(self) -> list[str]:
        """The levers' names, in file order."""
        return self.parameter_names

    @property
    def year_paths(self) -> list[list[int]]:
        """Each year path of the levers (see :class:`YearPaths`) as lever positions in year
        order; empty without a ``[year_paths]`` rule."""
        if self.spec.year_paths is None:
            return []
        return year_paths(self.lever_names)


def year_paths(names: list[str]) -> list[list[int]]:
    """The positions in ``names`` of each group of two or more keys that differ only in
    their final year, each in year order (groups in order of their first key)."""
    groups: dict[str, list[tuple[int, int]]] = {}
    for position, name in enumerate(names):
        if match := YEAR_KEY.match(name):
            groups.setdefault(match["path"], []).append((int(match["year"]), position))
    return [[p for _, p in sorted(steps)] for steps in groups.values() if len(steps) > 1]


def year_path_problems(path: Path, spec: PolicySpec) -> list[str]:
    """A ``[year_paths]`` rule with no path to keep it, a path whose levers do not share one
    range (mending a year could then leave its range), or a step off the levers' grid."""
    rule = spec.year_paths
    if rule is None:
        return []
    names = list(spec.levers)
    paths = year_paths(names)
    problems = []
    if not paths:
        problems.append(
            problem_line(
                str(path),
                "year_paths",
                "no two levers form a year path (keys that differ only in a final year, "
                "such as base_funding.default.values.2022 and .2023); remove the rule or add "
                "the years as levers",
            )
        )
    for steps in paths:
        ranges = {spec.levers[names[p]].bounds for p in steps}
        if len(ranges) > 1:
            problems.append(
                problem_line(
                    str(path),
                    f"levers.{names[steps[0]]}",
                    "the levers of one year path must share one range under [year_paths]; "
                    f"found {', '.join(str(list(r)) for r in sorted(ranges))}",
                )
            )
    if rule.max_step is not None and not on_lever_grid(rule.max_step):
        problems.append(
            problem_line(
                str(path),
                "year_paths.max_step",
                f"{rule.max_step} is not a multiple of the levers' grid {LEVER_RESOLUTION}",
            )
        )
    return problems


def on_lever_grid(value: float) -> bool:
    """Whether ``value`` is a whole number of ``LEVER_RESOLUTION`` steps."""
    steps = value / LEVER_RESOLUTION
    return abs(steps - round(steps)) < 1e-9


def objective_problems(path: Path, objective: Objective) -> list[str]:
    """An outcome named twice in one list, or both minimised and maximised: the search can
    push an outcome only one way."""
    problems = []
    for kind in ("minimise", "maximise"):
        names: list[str] = getattr(objective, kind)
        problems += [
            problem_line(str(path), f"objective.{kind}", f"'{name}' is listed twice")
            for i, name in enumerate(names)
            if name in names[:i]
        ]
    problems += [
        problem_line(
            str(path),
            "objective",
            f"'{name}' is under both minimise and maximise; an outcome can be pushed only "
            "one way (name it once)",
        )
        for name in dict.fromkeys(objective.minimise)
        if name in objective.maximise
    ]
    return problems


def size_problems(path: Path, spec: PolicySpec) -> list[str]:
    """Replications, candidates and the runs they make, bounded (``scenarios.config.job_size``)."""
    return [
        problem_line(str(path), key, problem)
        for key, problem in (
            ("replications", runs_problem(spec.replications)),
            ("out_of_sample_replications", runs_problem(spec.out_of_sample_replications or 0)),
            ("population", points_problem(spec.population, "candidates")),
            ("budget", search_problem(spec.budget, spec.replications)),
        )
        if problem is not None
    ]


def _spec_problems(path: Path, spec: PolicySpec) -> list[str]:
    """The problems found in the file alone, without its base scenario."""
    known = list(spec.outcomes)
    problems = objective_problems(path, spec.objective)
    for kind in ("minimise", "maximise"):
        for name in getattr(spec.objective, kind):
            if name not in known:
                problems.append(unknown_outcome(path, f"objective.{kind}", name, known))
    for name in spec.constraints:
        if name not in known:
            problems.append(unknown_outcome(path, f"constraints.{name}", name, known))
    problems.extend(size_problems(path, spec))
    problems.extend(year_path_problems(path, spec))
    problems.extend(
        problem_line(
            str(path),
            f"levers.{name}.distribution",
            "a lever's range is searched, not sampled; leave out 'distribution'",
        )
        for name, lever in spec.levers.items()
        if lever.distribution != "uniform"
    )
    problems.extend(
        provenance_problems(path, {f"levers.{k}.source": v.source for k, v in spec.levers.items()})
    )
    problems.extend(
        provenance_problems(path, {f"provenance.{k}": v for k, v in spec.provenance.items()})
    )
    return problems


def load_policy(path: str | Path) -> Policy:
    """Read, resolve and check a policy file; ``UserError`` lists every problem."""
    path = Path(path)
    spec: PolicySpec = read_spec(path, PolicySpec, "a policy file")
    study = resolve_study(path, spec, spec.levers, "levers", _spec_problems(path, spec))
    if study.problems:
        raise UserError(study.problems)
    return Policy(path, spec, study.base, study.document, tuple(study.parameters))
