"""Paired differences between two runs of the same seeds: what a scenario changes, run by run.

Two scenarios run with the same seed and number of runs draw the same random numbers in run
*r* as far as their inputs let them, so run *r* of one is the twin of run *r* of the other.
The difference of a measure is taken run by run, ``d_r = x_r(scenario) − x_r(baseline)``,
and its spread over the runs is the band of the change: far narrower than the two bands of
the scenarios drawn side by side, and exactly zero where the scenarios differ by a fixed
amount (a base cut of 0.5 MSEK to a cluster that stays open gives ``d_r = −0.5`` in every run).

The measures (:data:`MEASURES`), per cluster and for ``all`` (the clusters together):

- ``regional_money``: what Region Skåne pays, base + arena money (MSEK), summed over the
  programme's years (its start to its target year) and in the target year alone;
  ``regional_base`` and ``arena_money`` are its two parts;
- ``p_closed``: whether the cluster has left the programme (closed, or any other way out) by
  the target year, so its mean over the runs is the probability; for ``all``, whether any
  cluster has left;
- ``clusters_lost`` (``all`` only): how many clusters have left by the target year;
- ``members``: members in the target year (0 once a cluster has left).

The value of a measure is its mean over the runs; the change (``delta``) is the mean of the
run-by-run differences; the band (``delta_p10``, ``delta_p90``) is the P10–P90 of those
differences (``numpy.quantile``, linear, as every band of the tool). For a probability
(``p_closed``) a run's difference is −1, 0 or 1, whose P10–P90 says little, so its band is
the P10–P90 of the mean difference over ``BOOTSTRAP_RESAMPLES`` resamples of the runs, each
resample taking the same runs of both scenarios (a paired bootstrap with a fixed seed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from scenarios.core.errors import UserError
from scenarios.core.labels import label
from scenarios.folders.brief_files import BriefRow
from scenarios.folders.run_folder import RunFolder
from simulator.outcomes import ALL_CLUSTERS, BAND_QUANTILES
from simulator.records import YearlyTable

BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 20170101
"""The paired bootstrap of a probability's change is seeded, so the band is the same on
every machine."""
LOW, HIGH = BAND_QUANTILES[0], BAND_QUANTILES[-1]


@dataclass(frozen=True)
class Measure:
    """A number measured on every run of a scenario, per cluster and for ``all``."""

    name: str
    span: bool
    """Summed over the programme's years (``True``) or in the target year alone."""
    probability: bool = False
    """A 0/1 per run whose mean is a probability (its band is a paired bootstrap)."""
    all_only: bool = False
    """Measured for the clusters together only."""


MEASURES = (
    Measure("regional_money", span=True),
    Measure("regional_money", span=False),
    Measure("regional_base", span=True),
    Measure("regional_base", span=False),
    Measure("arena_money", span=True),
    Measure("arena_money", span=False),
    Measure("p_closed", span=False, probability=True),
    Measure("clusters_lost", span=False, all_only=True),
    Measure("members", span=False),
)
"""The measures of a brief, in the order of its rows."""
MONEY_MEASURES = frozenset({"regional_money", "regional_base", "arena_money"})
"""Measures in MSEK."""


@dataclass(frozen=True)
class Years:
    """The programme's years as a brief counts them: its start to its target year (or to the
    run's horizon, when the run ends before the target year)."""

    first: int
    target: int

    def of(self, measure: Measure) -> tuple[int, int]:
        """The first and last year a measure counts."""
        return (self.first, self.target) if measure.span else (self.target, self.target)

    def text(self, measure: Measure) -> str:
        """The years of a measure as ``brief.csv`` writes them (``2017-2021`` or ``2021``)."""
        first, last = self.of(measure)
        return str(last) if first == last else f"{first}-{last}"


def _money(table: YearlyTable, name: str) -> np.ndarray:
    if name == "regional_base":
        return table["regional_base"]
    if name == "arena_money":
        return table["arena_income"]
    return table["regional_base"] + table["arena_income"]


def per_run(table: YearlyTable, measure: Measure, years: Years) -> np.ndarray:
    """The measure in every run: (runs, clusters + 1), the last column ``all``."""
    first, last = years.of(measure)
    at = [i for i, year in enumerate(table.years) if first <= year <= last]
    if measure.name in MONEY_MEASURES:
        values = _money(table, measure.name)[:, at].sum(axis=1)
        return np.column_stack([values, values.sum(axis=1)])
    if measure.name in ("p_closed", "clusters_lost"):
        left = table.closed()[:, at[-1]].astype(float)
        together = left.max(axis=1) if measure.name == "p_closed" else left.sum(axis=1)
        return np.column_stack([left, together])
    members = table["members"][:, at[-1]].astype(float)
    return np.column_stack([members, members.sum(axis=1)])


@dataclass(frozen=True)
class Change:
    """A measure of one scenario against the baseline, per cluster and ``all``."""

    value: np.ndarray
    """The scenario's mean over its runs."""
    delta: np.ndarray
    """The mean run-by-run difference (NaN on the baseline's own rows)."""
    delta_p10: np.ndarray
    delta_p90: np.ndarray


def paired_band(differences: np.ndarray, probability: bool) -> tuple[np.ndarray, np.ndarray]:
    """P10 and P90 of run-by-run ``differences`` (runs, columns): of the differences
    themselves, or for a probability of their mean over paired bootstrap resamples."""
    if not probability:
        low, high = np.quantile(differences, (LOW, HIGH), axis=0)
        return low, high
    runs = differences.shape[0]
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    picks = rng.integers(0, runs, size=(BOOTSTRAP_RESAMPLES, runs))
    means = differences[picks].mean(axis=1)
    low, high = np.quantile(means, (LOW, HIGH), axis=0)
    return low, high


def change(base: np.ndarray, other: np.ndarray | None, probability: bool) -> Change:
    """``other``'s measure against ``base`` (both runs × columns, run r twin of run r);
    ``other`` ``None``: the baseline's own row, without a change."""
    if other is None:
        missing = np.full(base.shape[1], np.nan)
        return Change(base.mean(axis=0), missing, missing, missing)
    differences = other - base
    low, high = paired_band(differences, probability)
    return Change(other.mean(axis=0), differences.mean(axis=0), low, high)


@dataclass(frozen=True)
class Brief:
    """Every measure of every scenario against the baseline (the first), per cluster."""

    names: list[str]
    clusters: list[str]
    """Cluster ids in config order, then ``all``."""
    years: Years
    runs: int
    changes: dict[tuple[str, Measure], Change]
    """(scenario, measure) → its values, changes and bands per cluster (``clusters`` order)."""

    def rows(self) -> list[BriefRow]:
        """The rows of ``brief.csv``: scenario × cluster × measure."""
        rows = []
        for name in self.names:
            for c, cluster in enumerate(self.clusters):
                for measure in MEASURES:
                    if measure.all_only and cluster != ALL_CLUSTERS:
                        continue
                    found = self.changes[(name, measure)]
                    rows.append(
                        BriefRow(
                            name,
                            cluster,
                            measure.name,
                            self.years.text(measure),
                            float(found.value[c]),
                            float(found.delta[c]),
                            float(found.delta_p10[c]),
                            float(found.delta_p90[c]),
                        )
                    )
        return rows

    def get(self, name: str, measure: str, span: bool, cluster: str = ALL_CLUSTERS) -> Change:
        """One measure of one scenario, for one cluster (a ``Change`` of one-element arrays)."""
        wanted = next(m for m in MEASURES if m.name == measure and m.span == span)
        found = self.changes[(name, wanted)]
        c = self.clusters.index(cluster)
        return Change(*(np.asarray(part[c : c + 1]) for part in _parts(found)))


def _parts(found: Change) -> tuple[np.ndarray, ...]:
    return found.value, found.delta, found.delta_p10, found.delta_p90


def paired_problem(runs: Sequence[RunFolder], names: Sequence[str], lang: str = "en") -> str | None:
    """Why the runs are not twins of the first (another seed or number of runs), in ``lang``,
    or ``None``."""
    first = runs[0].manifest
    for run, name in zip(runs[1:], names[1:], strict=True):
        manifest = run.manifest
        for key in ("seed", "runs"):
            if manifest[key] != first[key]:
                return label("not_twins", lang).format(
                    path=run.path,
                    name=name,
                    what=label(f"twins.{key}", lang).format(value=manifest[key]),
                    base_path=runs[0].path,
                    base_value=first[key],
                    base_what=label(f"twins.{key}", lang).format(value=first[key]),
                )
    return None


def check_paired(runs: Sequence[RunFolder], names: Sequence[str]) -> None:
    """Refuse runs that are not twins of the first, in one line."""
    problem = paired_problem(runs, names)
    if problem is not None:
        raise UserError(problem)


def paired_brief(runs: Sequence[RunFolder], names: Sequence[str]) -> Brief:
    """Every measure of each run against the first, run by run (their seeds and runs checked
    by :func:`check_paired`)."""
    check_paired(runs, names)
    base_run = runs[0]
    manifest = base_run.manifest
    last = min(int(manifest["target_year"]), int(manifest["horizon"]))
    years = Years(int(manifest["start_year"]), last)
    tables = [run.yearly_table for run in runs]
    changes = {}
    for measure in MEASURES:
        base = per_run(tables[0], measure, years)
        for index, (name, table) in enumerate(zip(names, tables, strict=True)):
            other = per_run(table, measure, years) if index else None
            changes[(name, measure)] = change(base, other, measure.probability)
    return Brief(
        list(names),
        [*base_run.clusters, ALL_CLUSTERS],
        years,
        int(manifest["runs"]),
        changes,
    )


@dataclass(frozen=True)
class YearlyChange:
    """A yearly measure's change against the baseline, per year × cluster (+ ``all``)."""

    years: list[int]
    delta: np.ndarray
    """(years, clusters + 1): the mean run-by-run difference."""
    low: np.ndarray
    high: np.ndarray


YEARLY_MEASURES: dict[str, Callable[[YearlyTable], np.ndarray]] = {
    "regional_money": lambda table: _money(table, "regional_money"),
    "members": lambda table: table["members"].astype(float),
}
"""The measures the difference charts draw, year by year (runs × years × clusters)."""


def yearly_changes(base: YearlyTable, other: YearlyTable, measure: str) -> YearlyChange:
    """``measure`` of ``other`` against ``base`` in every year, with the paired P10–P90."""
    values = [YEARLY_MEASURES[measure](table) for table in (base, other)]
    with_all = [np.concatenate([v, v.sum(axis=2, keepdims=True)], axis=2) for v in values]
    differences = with_all[1] - with_all[0]
    low, high = np.quantile(differences, (LOW, HIGH), axis=0)
    return YearlyChange(list(base.years), differences.mean(axis=0), low, high)
