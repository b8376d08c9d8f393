"""Outcomes: named numbers measured on one run, then summarised over replications.

An :class:`Outcome` names a metric (a ``yearly.csv`` column, ``closed``, or a
scorecard target as ``scorecard:<target>``), a year or a span of years, a
cluster or ``all``, and the statistic over replications that an experiment or
an optimiser looks at. Explore, optimise and the report share these
definitions, so "expected closures in 2025" means the same thing everywhere.

Per run, a metric for one cluster is that cluster's value in the year (0 for
the money and members of a closed cluster, 1 for ``closed``). For ``all``:

- ``regional_share`` is the programme-wide share: Σ regional_base / Σ total_income;
- ``fee_multiplier`` and ``activity_level`` are the mean over open clusters;
- every other metric is summed over clusters (``closed`` counts closed clusters,
  ``active`` the open ones).

A span (``years = [first, last]``) sums the per-year values over its years. A
scorecard metric is 1 in a run where the target is met in the year, else 0, so
its ``mean`` over replications is the probability that the target is met.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator

from simulator.records import YEARLY_COLUMNS, AllocationRow, YearlyTable
from simulator.scenario import Scenario
from simulator.scorecard import score_runs, scorecard_targets, scored_years

SCORECARD_PREFIX = "scorecard:"
BAND_QUANTILES = (0.1, 0.5, 0.9)
"""P10, P50 and P90: the band every summary, backtest and chart of the tool shows
(``numpy.quantile``, linear)."""
STATS = ("mean", "p10", "p50", "p90", "sd")
"""The statistics over replications kept for every outcome, in column order (``sd``: the
sample standard deviation, 0 for one replication)."""
_NOT_METRICS = {"year", "cluster", "status"}
YEARLY_METRICS = (*tuple(c for c in YEARLY_COLUMNS if c not in _NOT_METRICS), "closed", "active")
"""Metrics an outcome may name besides ``scorecard:<target>``."""
MEAN_OVER_OPEN = frozenset({"fee_multiplier", "activity_level"})
ALL_CLUSTERS = "all"

Stat = Literal["mean", "p10", "p50", "p90", "sd"]


class Outcome(BaseModel):
    """What to measure in every run of a point, and which statistic over its runs counts."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    metric: str
    """A yearly.csv metric (``members``, ``reserves``, ``regional_share``, ...), ``closed``,
    or ``scorecard:<target>`` (e.g. ``scorecard:no_closures``)."""
    year: int | None = None
    """The year measured (give this or ``years``)."""
    years: tuple[int, int] | None = None
    """A span ``[first, last]``: the per-year values are summed over it."""
    cluster: str = ALL_CLUSTERS
    """A cluster id, or ``all`` (see the module docstring for how clusters combine)."""
    stat: Stat = "mean"
    """The statistic over replications that analyses and constraints use
    (``mean | p10 | p50 | p90 | sd``)."""

    @model_validator(mode="after")
    def _one_year_or_span(self) -> Outcome:
        if (self.year is None) == (self.years is None):
            raise ValueError("give either 'year' or 'years = [first, last]'")
        if self.years is not None and self.years[0] > self.years[1]:
            raise ValueError(f"years {list(self.years)} are in the wrong order")
        if self.years is not None and self.is_scorecard:
            raise ValueError("a scorecard outcome is measured in one 'year', not a span")
        return self

    @property
    def is_scorecard(self) -> bool:
        """Whether the metric is a scorecard target (a 0/1 per run)."""
        return self.metric.startswith(SCORECARD_PREFIX)

    @property
    def span(self) -> tuple[int, int]:
        """(first, last) year measured."""
        if self.years is not None:
            return self.years
        assert self.year is not None
        return (self.year, self.year)


def outcome_problems(outcome: Outcome, scenario: Scenario) -> list[str]:
    """What is wrong with ``outcome`` for ``scenario`` (unknown metric, cluster, year)."""
    problems = []
    if outcome.is_scorecard:
        target = outcome.metric[len(SCORECARD_PREFIX) :]
        names = [name for name, _ in scorecard_targets(scenario)]
        if target not in names:
            problems.append(f"unknown scorecard target '{target}' (known: {', '.join(names)})")
        first_scored = scored_years(scenario)[0] if scored_years(scenario) else None
        if first_scored is not None and outcome.span[0] < first_scored:
            problems.append(
                f"the scorecard is kept from {first_scored} (the target year); "
                f"{outcome.span[0]} is earlier"
            )
    elif outcome.metric not in YEARLY_METRICS:
        problems.append(
            f"unknown metric '{outcome.metric}' (known: {', '.join(YEARLY_METRICS)}, "
            f"or scorecard:<target>)"
        )
    if outcome.cluster != ALL_CLUSTERS and outcome.cluster not in scenario.clusters:
        problems.append(
            f"unknown cluster '{outcome.cluster}' (known: all, {', '.join(scenario.clusters)})"
        )
    start = scenario.programme.start_year
    if outcome.span[0] < start:
        problems.append(f"year {outcome.span[0]} is before the programme starts ({start})")
    return problems


@dataclass(frozen=True)
class OutcomeMeter:
    """Measures a fixed list of outcomes on runs of one scenario.

    Built once per scenario, then :meth:`measure` is called for every batch of runs.
    """

    scenario: Scenario
    outcomes: tuple[Outcome, ...]

    @property
    def needs_scorecard(self) -> bool:
        """Whether any outcome reads the scorecard (which costs a scoring pass per run)."""
        return any(o.is_scorecard for o in self.outcomes)

    def measure(
        self, table: YearlyTable, allocations: Sequence[Sequence[AllocationRow]]
    ) -> np.ndarray:
        """(runs, outcomes) values for a batch (as :func:`simulator.model.simulate_batch` gives)."""
        met = None
        if self.needs_scorecard:
            met, _ = score_runs(self.scenario, table, allocations)
        values = np.empty((table.runs, len(self.outcomes)))
        for i, outcome in enumerate(self.outcomes):
            if outcome.is_scorecard:
                assert met is not None
                values[:, i] = self._scorecard_met(met, outcome)
            else:
                first, last = outcome.span
                at = [t for t, year in enumerate(table.years) if first <= year <= last]
                values[:, i] = yearly_values(table, outcome, at).sum(axis=1)
        return values

    def _scorecard_met(self, met: np.ndarray, outcome: Outcome) -> np.ndarray:
        years = scored_years(self.scenario)
        names = [name for name, _ in scorecard_targets(self.scenario)]
        target = outcome.metric[len(SCORECARD_PREFIX) :]
        assert outcome.year is not None
        return met[:, years.index(outcome.year), names.index(target)].astype(float)


def metric_values(table: YearlyTable, metric: str) -> np.ndarray:
    """A metric per run × year × cluster (``closed`` and ``active`` as 0/1)."""
    if metric in ("closed", "active"):
        return (table.closed() == (metric == "closed")).astype(float)
    return table[metric].astype(float)


def yearly_values(table: YearlyTable, outcome: Outcome, at: Sequence[int]) -> np.ndarray:
    """The outcome's metric in the years ``at`` (table positions): (runs, years)."""
    metric = outcome.metric
    values = metric_values(table, metric)[:, at]
    if outcome.cluster != ALL_CLUSTERS:
        return values[:, :, table.clusters.index(outcome.cluster)]
    if metric == "regional_share":
        total = table["total_income"][:, at].sum(axis=2)
        base = table["regional_base"][:, at].sum(axis=2)
        return np.divide(base, total, out=np.zeros_like(total), where=total > 0)
    if metric in MEAN_OVER_OPEN:
        is_open = ~table.closed()[:, at]
        count = is_open.sum(axis=2)
        summed = np.where(is_open, values, 0.0).sum(axis=2)
        return np.divide(summed, count, out=np.zeros_like(summed), where=count > 0)
    return values.sum(axis=2)


def summarise_replications(values: np.ndarray) -> np.ndarray:
    """(replications, outcomes) → (outcomes, 5): mean, P10, P50, P90, sd over replications."""
    mean = values.mean(axis=0)
    q10, q50, q90 = np.quantile(values, BAND_QUANTILES, axis=0)
    sd = values.std(axis=0, ddof=1) if len(values) > 1 else np.zeros(values.shape[1])
    return np.column_stack((mean, q10, q50, q90, sd))


def last_year_needed(outcomes: Sequence[Outcome]) -> int:
    """The latest year any outcome measures."""
    return max(o.span[1] for o in outcomes)
