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
scored too, as the uncalibrated reference. With ``[calibrate] waves``, each later wave's
points are scored the same way (:mod:`scenarios.analysis.waves`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scenarios.config.observations import Target
from simulator.outcomes import STATS

BASE_POINT = "base"


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
