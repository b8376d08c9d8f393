"""Ensemble statistics, accumulated batch by batch with memory that does not grow with the run count.

Per-run metrics go to a disk-backed array (``numpy.memmap``) in the staging folder;
quantiles are then taken one year at a time. The scorecard only needs running sums.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from scenarios.folders.run_folder import SUMMARY_METRICS
from scenarios.folders.tables import round_half_even
from simulator.outcomes import BAND_QUANTILES
from simulator.records import YearlyTable
from simulator.scenario import Scenario
from simulator.scorecard import scorecard_targets


def summary_metrics(table: YearlyTable) -> np.ndarray:
    """A batch's (tidy) yearly table as the summary keeps it: (runs, years, clusters,
    ``SUMMARY_METRICS``)."""
    return np.stack(
        [
            table.closed().astype(np.float64) if metric == "closed" else table[metric]
            for metric in SUMMARY_METRICS
        ],
        axis=3,
    )


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
        with self.path.open("r+b") as handle:  # claim the disk now: a full disk is an OSError
            os.posix_fallocate(handle.fileno(), 0, self.path.stat().st_size)  # here, not SIGBUS

    def add(self, first_run: int, metrics: np.ndarray) -> None:
        """Store a batch's :func:`summary_metrics` as runs ``first_run, first_run + 1, ...``."""
        self.values[first_run : first_run + metrics.shape[0]] = metrics

    def rows(self) -> Iterator[tuple]:
        """Summary rows: year, cluster, metric, p10, p50, p90, mean (floats rounded as
        :func:`scenarios.folders.tables.tidy` rounds them)."""
        for y, year in enumerate(self.years):
            slab = np.asarray(self.values[:, y])  # runs × clusters × metrics
            stats = np.concatenate(
                (np.quantile(slab, BAND_QUANTILES, axis=0), slab.mean(axis=0)[np.newaxis])
            )
            values = round_half_even(np.moveaxis(stats, 0, -1)).tolist()  # clusters × metrics × 4
            for c, cluster in enumerate(self.clusters):
                for m, metric in enumerate(SUMMARY_METRICS):
                    yield (year, cluster, metric, *values[c][m])

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
        """Add a batch's (met, value) arrays, of shape (runs, years, targets), run after run
        (so the sums do not depend on how runs were batched)."""
        for run_met, run_value in zip(met, value, strict=True):
            self.met += run_met
            self.value += run_value
        self.runs += met.shape[0]

    def rows(self) -> Iterator[tuple]:
        """Scorecard rows: target, year, probability, mean value, runs, description (floats
        rounded as :func:`scenarios.folders.tables.tidy` rounds them)."""
        probability = round_half_even(self.met / self.runs).tolist()
        mean_value = round_half_even(self.value / self.runs).tolist()
        for t, (target, description) in enumerate(self.targets):
            for y, year in enumerate(self.years):
                yield (
                    target,
                    year,
                    probability[y][t],
                    mean_value[y][t],
                    self.runs,
                    description,
                )
