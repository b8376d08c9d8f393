"""Ensemble statistics, accumulated run by run with memory that does not grow with the run count.

Per-run metrics go to a disk-backed array (``numpy.memmap``) in the staging folder;
quantiles are then taken one year at a time. The scorecard only needs running sums.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from simulator.cluster import CLOSED, YEARLY_COLUMNS
from simulator.scenario import Scenario
from simulator.scorecard import scorecard_targets

SUMMARY_METRICS = (
    "members",
    "fee_income",
    "private_income",
    "regional_base",
    "arena_income",
    "other_public",
    "total_income",
    "costs",
    "reserves",
    "regional_share",
    "fee_multiplier",
    "activity_level",
    "closed",
)
MONEY_METRICS = frozenset(SUMMARY_METRICS) - {
    "members",
    "regional_share",
    "fee_multiplier",
    "activity_level",
    "closed",
}
"""Summary metrics measured in MSEK."""
SUMMARY_COLUMNS = ("year", "cluster", "metric", "p10", "p50", "p90", "mean")
SCORECARD_COLUMNS = ("target", "year", "probability", "mean_value", "runs", "description")
_NUMERIC = [YEARLY_COLUMNS.index(m) for m in SUMMARY_METRICS if m != "closed"]
_STATUS = YEARLY_COLUMNS.index("status")


class EnsembleSummary:
    """Collects each run's yearly metrics; gives P10/P50/P90 and mean per year × cluster × metric."""

    def __init__(
        self, folder: Path, runs: int, years: Sequence[int], clusters: Sequence[str]
    ) -> None:
        self.years = list(years)
        self.clusters = list(clusters)
        self.path = folder / "metrics.tmp.npy"
        shape = (runs, len(self.years), len(self.clusters), len(SUMMARY_METRICS))
        self.values = np.lib.format.open_memmap(self.path, mode="w+", dtype=np.float64, shape=shape)

    def add(self, run: int, yearly_rows: Sequence[tuple]) -> None:
        """Store one run's rows (in year-major, cluster order as the model writes them)."""
        table = np.array([[row[i] for i in _NUMERIC] for row in yearly_rows], dtype=np.float64)
        closed = np.array([row[_STATUS] == CLOSED for row in yearly_rows], dtype=np.float64)
        block = np.column_stack((table, closed))
        self.values[run] = block.reshape(len(self.years), len(self.clusters), len(SUMMARY_METRICS))

    def rows(self) -> Iterator[tuple]:
        """Summary rows: year, cluster, metric, p10, p50, p90, mean."""
        for y, year in enumerate(self.years):
            slab = np.asarray(self.values[:, y])  # runs × clusters × metrics
            q10, q50, q90 = np.quantile(slab, (0.1, 0.5, 0.9), axis=0)
            mean = slab.mean(axis=0)
            for c, cluster in enumerate(self.clusters):
                for m, metric in enumerate(SUMMARY_METRICS):
                    yield (
                        year,
                        cluster,
                        metric,
                        float(q10[c, m]),
                        float(q50[c, m]),
                        float(q90[c, m]),
                        float(mean[c, m]),
                    )

    def close(self) -> None:
        """Drop the disk-backed array."""
        del self.values
        self.path.unlink(missing_ok=True)


class ScorecardTally:
    """Running sums of each run's scorecard."""

    def __init__(self, scenario: Scenario, years: Sequence[int]) -> None:
        self.years = list(years)
        self.targets = scorecard_targets(scenario)
        self.met = np.zeros((len(self.years), len(self.targets)))
        self.value = np.zeros((len(self.years), len(self.targets)))
        self.runs = 0

    def add(self, met: np.ndarray, value: np.ndarray) -> None:
        """Add one run's (met, value) arrays."""
        self.met += met
        self.value += value
        self.runs += 1

    def rows(self) -> Iterator[tuple]:
        """Scorecard rows: target, year, probability, mean value, runs, description."""
        for t, (target, description) in enumerate(self.targets):
            for y, year in enumerate(self.years):
                yield (
                    target,
                    year,
                    self.met[y, t] / self.runs,
                    self.value[y, t] / self.runs,
                    self.runs,
                    description,
                )
