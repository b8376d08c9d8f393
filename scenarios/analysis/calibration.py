"""Calibration with the explore runner: which points of an experiment are consistent
with observed figures (history matching), and the best one as a ready scenario.

An experiment with a ``[calibrate]`` table names an observations file (the format
of ``configs/observations.csv``). Every observation inside the run's years becomes
an outcome measured at every point. Its implausibility at a point is

    I = d / sqrt(sd² + (tolerance · max(|z|, 1))²)

where ``d`` is the distance of the point's mean over replications from the observed
value ``z`` (0 inside a bound, else the distance to the bound), ``sd`` the spread of
the replications (the model's own noise) and ``tolerance`` a relative allowance for
observation error and model discrepancy (assumed). A point is not ruled out when
its largest I over the observations used is at most ``cutoff`` (3, Pukelsheim's
three-sigma rule). The best point has the smallest largest I (then the smallest
mean I). Observations named in ``hold_out`` are measured and reported, never used
to choose: they judge the calibration. The base scenario itself (no changes) is
scored too, as the uncalibrated reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scenarios.config.observations import ALL, Observation, read_observations
from scenarios.core.errors import UserError, problem_line
from simulator.outcomes import STATS, Outcome
from simulator.scenario import Scenario

METRIC_OF_OBSERVATION = {"closed_clusters": "closed", "active_clusters": "active"}
"""Observation metrics that outcomes name differently."""
BASE_POINT = "base"


@dataclass(frozen=True)
class Target:
    """One observation turned into an outcome measured at every point."""

    name: str
    """``cluster:year:metric`` (the ``hold_out`` selector)."""
    observation: Observation
    outcome: Outcome
    held_out: bool

    def distance(self, mean: np.ndarray) -> np.ndarray:
        """How far each mean lies from the observation (0 inside a bound)."""
        o = self.observation
        if o.value is not None:
            return np.abs(mean - o.value)
        low = -np.inf if o.lower is None else o.lower
        high = np.inf if o.upper is None else o.upper
        return np.maximum(0.0, np.maximum(low - mean, mean - high))

    @property
    def scale(self) -> float:
        """The observed magnitude the tolerance is relative to (at least 1)."""
        o = self.observation
        numbers = [abs(x) for x in (o.value, o.lower, o.upper) if x is not None]
        return max(1.0, *numbers)

    def observed(self) -> str:
        """The observation as text: ``25``, ``>= 300``, ``[2, 4]``."""
        o = self.observation
        if o.value is not None:
            return f"{o.value:g}"
        if o.lower is not None and o.upper is not None:
            return f"[{o.lower:g}, {o.upper:g}]"
        return f">= {o.lower:g}" if o.lower is not None else f"<= {o.upper:g}"


def calibration_targets(
    experiment_path: Path,
    observations: Path,
    hold_out: list[str],
    scenario: Scenario,
) -> list[Target]:
    """The observations inside the scenario's years as targets; every problem at once."""
    found = read_observations(observations, list(scenario.clusters), scenario.years)
    targets = []
    for o in found.scored:
        name = f"{o.cluster}:{o.year}:{o.metric}"
        metric = METRIC_OF_OBSERVATION.get(o.metric, o.metric)
        outcome = Outcome(
            metric=metric, year=o.year, cluster=o.cluster if o.cluster != ALL else ALL
        )
        targets.append(Target(name, o, outcome, name in hold_out))
    names = {t.name for t in targets}
    problems = [
        problem_line(
            str(experiment_path),
            "calibrate.hold_out",
            f"'{h}' is no observation of {observations.name} inside the run's years "
            f"(cluster:year:metric; there are {', '.join(sorted(names))})",
        )
        for h in hold_out
        if h not in names
    ]
    if not any(not t.held_out for t in targets):
        problems.append(
            problem_line(
                str(experiment_path),
                "calibrate.hold_out",
                "every observation is held out; none is left to calibrate on",
            )
        )
    if problems:
        raise UserError(problems)
    return targets


def implausibility(targets: list[Target], stats: np.ndarray, tolerance: float) -> np.ndarray:
    """(points, targets) implausibility from the targets' (points, targets, stats) statistics."""
    mean = stats[:, :, STATS.index("mean")]
    sd = stats[:, :, STATS.index("sd")]
    out = np.empty(mean.shape)
    for j, target in enumerate(targets):
        allowance = (tolerance * target.scale) ** 2
        out[:, j] = target.distance(mean[:, j]) / np.sqrt(sd[:, j] ** 2 + allowance)
    return out


@dataclass(frozen=True)
class CalibrationResult:
    """Implausibility of every point (the base last) and which point is best."""

    targets: list[Target]
    values: np.ndarray
    """(points + 1, targets): implausibility, the base scenario in the last row."""
    cutoff: float

    @property
    def used(self) -> np.ndarray:
        """Mask of the targets used to calibrate (not held out)."""
        return np.array([not t.held_out for t in self.targets])

    @property
    def largest(self) -> np.ndarray:
        """Each point's largest implausibility over the targets used."""
        return self.values[:, self.used].max(axis=1)

    @property
    def mean(self) -> np.ndarray:
        """Each point's mean implausibility over the targets used."""
        return self.values[:, self.used].mean(axis=1)

    @property
    def not_ruled_out(self) -> np.ndarray:
        """Mask of the design's points (not the base) whose largest I is within the cutoff."""
        return self.largest[:-1] <= self.cutoff

    @property
    def best(self) -> int:
        """The design point with the smallest largest I (then smallest mean I, then index)."""
        points = np.arange(len(self.values) - 1)
        return int(points[np.lexsort((points, self.mean[:-1], self.largest[:-1]))][0])
