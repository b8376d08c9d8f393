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

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from scenarios.config import designs
from scenarios.config.designs import Design
from scenarios.config.job_size import model_runs_problem, points_problem, runs_problem
from scenarios.config.observations import Target, calibration_targets
from scenarios.config.scenario import LoadedConfig
from scenarios.config.study_file import (
    Parameter,
    ResolvedParameter,
    StrictSpec,
    Study,
    provenance_problems,
    read_spec,
    resolve_study,
)
from scenarios.core.errors import UserError, did_you_mean, problem_line
from simulator.outcomes import Outcome


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
    fit_until: int = 2019
    """Only observed figures up to this year are fitted; later ones judge the calibration
    (``clusterfund backtest RESULTS --split <fit_until>``) and are never read by it."""
    waves: int = Field(default=1, ge=1, le=10, strict=True)
    """History matching in waves: wave 1 is the design; each later wave draws a design of
    the same size inside the region the previous one did not rule out
    (:mod:`scenarios.analysis.waves`). 1 (the default) is one wave."""


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
    fixed: dict[str, Any] = Field(default_factory=dict)
    """Keys set to one value at every point (like ``--set``)."""
    uncertain: dict[str, Parameter] = Field(min_length=1)
    """Key → its uncertainty."""
    outcomes: dict[str, Outcome] = Field(min_length=1)
    """Name → what to measure."""
    discover: Discover | None = None
    """Scenario discovery (PRIM) on one outcome."""
    calibrate: Calibrate | None = None
    """History matching against an observations file; writes the best point as a scenario."""
    provenance: dict[str, str] = Field(default_factory=dict)
    """Where numbers other than the ranges come from (e.g. ``samples``)."""


@dataclass(frozen=True)
class Experiment(Study):
    """A loaded, checked experiment: its base document and its uncertain inputs."""

    spec: ExperimentSpec
    targets: tuple[Target, ...] = ()
    """Observations to calibrate against (empty without ``[calibrate]``)."""

    @property
    def inputs(self) -> tuple[ResolvedParameter, ...]:
        """The uncertain inputs, in file order."""
        return self.parameters

    @property
    def input_names(self) -> list[str]:
        """The uncertain inputs' names, in file order."""
        return self.parameter_names

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
    def model_runs(self) -> int:
        """Runs of the whole experiment: every point's replications (with ``[calibrate]``,
        the base scenario's too, and every wave's points: at most, since the waves stop
        when one rules out every point)."""
        spec = self.spec
        points = designs.point_count(spec.design, spec.samples, len(self.parameters))
        if not self.targets or spec.calibrate is None:
            return points * spec.replications
        return (points * spec.calibrate.waves + 1) * spec.replications


def design_problems(path: Path, spec: ExperimentSpec) -> list[str]:
    """Problems with the design's size: below the least SALib can analyse (with why), not a
    power of two for Sobol', odd Morris levels, or more points or runs than allowed."""
    where = str(path)
    least, why = designs.MINIMUM_SAMPLES[spec.design]
    if spec.samples < 1:
        return [problem_line(where, "samples", f"must be at least 1 (got {spec.samples})")]
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
        hint = did_you_mean(spec.discover.outcome, spec.outcomes)
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
    spec: ExperimentSpec = read_spec(path, ExperimentSpec, "an experiment file")
    targets: list[Target] = []

    def observed(loaded: LoadedConfig) -> tuple[dict[str, Outcome], list[str]]:
        if spec.calibrate is None:
            return {}, []
        calibrate = spec.calibrate
        try:
            targets.extend(
                calibration_targets(
                    path,
                    path.parent / calibrate.observations,
                    calibrate.hold_out,
                    loaded.scenario,
                    calibrate.fit_until,
                )
            )
        except UserError as exc:
            return {}, exc.lines
        return {f"observation '{t.name}'": t.outcome for t in targets}, []

    study = resolve_study(
        path, spec, spec.uncertain, "uncertain", _spec_problems(path, spec), observed
    )
    if study.problems:
        raise UserError(study.problems)
    return Experiment(
        path, spec, study.base, study.document, tuple(study.parameters), tuple(targets)
    )
