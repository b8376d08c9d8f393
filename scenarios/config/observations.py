"""Observed figures (``configs/observations.csv``): read, check, and keep those a run can score.

Columns: ``cluster, year, metric, value, lower, upper, source, note``. A row gives a
``value``, or only a ``lower`` and/or ``upper`` bound (inclusive); ``cluster`` is a
cluster id or ``all`` for programme totals; an empty ``year`` means undated.

Metrics (one number per run, year and cluster, taken from ``yearly.csv``):

- for a cluster or for ``all`` (summed over the clusters): ``members``, ``joined``,
  ``left``, ``fee_income``, ``private_income``, ``regional_base``, ``arena_income``,
  ``other_public``, ``total_income``, ``costs``, ``reserves`` (MSEK but for the counts),
  and ``regional_share`` (for ``all``: summed regional base over summed income);
- for ``all`` only: ``active_clusters`` and ``closed_clusters`` (clusters not closed /
  closed in that year).

Every problem is reported at once, one line each naming the file, the line and the column.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scenarios.config.files import CsvRow, read_csv
from scenarios.core.errors import UserError, problem_line
from simulator.outcomes import ALL_CLUSTERS, Outcome
from simulator.records import YEARLY_COLUMNS
from simulator.scenario import Scenario

OBSERVATION_COLUMNS = (
    "cluster",
    "year",
    "metric",
    "value",
    "lower",
    "upper",
    "kind",
    "source",
    "note",
)
OPTIONAL_COLUMNS = ("kind",)
"""A file without ``kind`` holds observed figures only (an empty ``kind`` cell is
``observed`` too)."""
OBSERVED, PLAN, START = "observed", "plan", "start"
KINDS = (OBSERVED, PLAN, START)
"""What a row is: ``observed`` (something that happened: the only rows a calibration may fit
and the backtest scores), ``plan`` (a stated intention, such as the seed's 1 MSEK per
cluster in 2021: shown in the backtest, marked, never fitted) or ``start`` (a figure the model
takes as its input, such as the 2017 member counts: it checks the inputs and is left out of
coverage and skill)."""
ALL = ALL_CLUSTERS
"""The programme as a whole (the outcomes' name for it)."""
NOT_METRICS = ("year", "cluster", "status", "fee_multiplier", "activity_level", "arena_projects")
CLUSTER_METRICS = tuple(c for c in YEARLY_COLUMNS if c not in NOT_METRICS)
"""The numeric columns of ``yearly.csv`` that an observation can name (not the model's
internal levels)."""
PROGRAMME_METRICS = ("active_clusters", "closed_clusters")
"""Metrics only defined for ``cluster = all``."""


@dataclass(frozen=True)
class Observation:
    """One observed figure: a value, or bounds, for a cluster (or ``all``), year and metric."""

    line: int
    """The file's line the row starts on (the header is line 1)."""
    cluster: str
    year: int | None
    """``None`` when the source gives no year."""
    metric: str
    value: float | None
    lower: float | None
    upper: float | None
    source: str
    note: str
    kind: str = OBSERVED
    """``observed``, ``plan`` or ``start`` (see ``KINDS``)."""

    @property
    def is_bound(self) -> bool:
        """Only bounds, no value."""
        return self.value is None


@dataclass(frozen=True)
class ObservationSet:
    """The observations a run can score, and those it skips with the reason."""

    path: Path
    scored: list[Observation]
    skipped: list[tuple[Observation, str]]


def _number(text: str) -> float | None:
    """``None`` for an empty cell; raises ``ValueError`` for text that is not a finite number."""
    if text.strip() == "":
        return None
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(text)
    return number


def _row_problems(
    row: dict[str, str], clusters: Sequence[str]
) -> tuple[list[tuple[str, str]], dict[str, float | None], int | None]:
    """(column, message) problems of one row, its numbers, and its year."""
    problems: list[tuple[str, str]] = []
    cluster, metric = row["cluster"].strip(), row["metric"].strip()
    if cluster != ALL and cluster not in clusters:
        problems.append(
            ("cluster", f"unknown cluster '{cluster}' (known: {ALL}, {', '.join(clusters)})")
        )
    allowed = (*CLUSTER_METRICS, *PROGRAMME_METRICS) if cluster == ALL else CLUSTER_METRICS
    if metric not in allowed:
        only_all = " (only for cluster 'all')" if metric in PROGRAMME_METRICS else ""
        problems.append(
            ("metric", f"unknown metric '{metric}'{only_all} (allowed: {', '.join(allowed)})")
        )
    year: int | None = None
    if row["year"].strip():
        try:
            year = int(row["year"])
        except ValueError:
            problems.append(
                ("year", f"'{row['year']}' is not a year; give e.g. 2019 or leave it empty")
            )
    numbers: dict[str, float | None] = {}
    for column in ("value", "lower", "upper"):
        try:
            numbers[column] = _number(row[column])
        except ValueError:
            numbers[column] = None
            problems.append((column, f"'{row[column]}' is not a number"))
    value, lower, upper = numbers["value"], numbers["lower"], numbers["upper"]
    if (
        value is None
        and lower is None
        and upper is None
        and not any(c in ("value", "lower", "upper") for c, _ in problems)
    ):
        problems.append(("value", "neither a value nor a lower or upper bound"))
    if value is not None and (lower is not None or upper is not None):
        problems.append(("value", "give a value or bounds, not both"))
    if lower is not None and upper is not None and lower > upper:
        problems.append(("lower", f"lower bound {lower:g} is above the upper bound {upper:g}"))
    kind = row.get("kind", "").strip() or OBSERVED
    if kind not in KINDS:
        problems.append(
            (
                "kind",
                f"unknown kind '{kind}'; give observed (it happened), plan (a stated "
                "intention) or start (a figure the model takes as input)",
            )
        )
    return problems, numbers, year


def read_observations(path: Path, clusters: Sequence[str], years: Sequence[int]) -> ObservationSet:
    """The observations in ``path`` split into those inside ``years`` and those skipped.

    Raises ``UserError`` listing every bad row, or when no row falls inside ``years``.
    """
    observations = _parse_observations(path, _read_rows(path), clusters)
    first, last = min(years), max(years)
    scored = [o for o in observations if o.year is not None and first <= o.year <= last]
    skipped = [
        (o, "undated" if o.year is None else f"outside the run's years {first}–{last}")
        for o in observations
        if o not in scored
    ]
    if not scored:
        raise UserError(
            problem_line(
                str(path),
                "year",
                f"no observation falls in the run's years {first}–{last} "
                f"({len(observations)} row(s), all outside or undated)",
            )
        )
    return ObservationSet(path, scored, skipped)


def _read_rows(path: Path) -> list[CsvRow]:
    """The rows of the observations CSV, parsed strictly (each with the file line it
    starts on); a ``UserError`` when the file cannot be read as a CSV or lacks a column
    of ``OBSERVATION_COLUMNS``."""
    header, rows = read_csv(path, "an observations CSV")
    missing = [c for c in OBSERVATION_COLUMNS if c not in header and c not in OPTIONAL_COLUMNS]
    if missing:
        raise UserError(
            problem_line(
                str(path),
                "header",
                f"missing column(s) {', '.join(missing)}; expected {', '.join(OBSERVATION_COLUMNS)}",
            )
        )
    return rows


def _parse_observations(
    path: Path, rows: list[CsvRow], clusters: Sequence[str]
) -> list[Observation]:
    """Every row as an ``Observation`` (with the file line it starts on); a ``UserError``
    listing every problem of every row."""
    problems: list[str] = []
    observations: list[Observation] = []
    for csv_row in rows:
        line, row = csv_row.line, csv_row.cells
        found, numbers, year = _row_problems(row, clusters)
        problems += [problem_line(str(path), f"line {line}: {col}", msg) for col, msg in found]
        if not found:
            observations.append(
                Observation(
                    line,
                    row["cluster"].strip(),
                    year,
                    row["metric"].strip(),
                    numbers["value"],
                    numbers["lower"],
                    numbers["upper"],
                    row["source"].strip(),
                    row["note"].strip(),
                    row.get("kind", "").strip() or OBSERVED,
                )
            )
    if problems:
        raise UserError(problems)
    return observations


METRIC_OF_OBSERVATION = {"closed_clusters": "closed", "active_clusters": "active"}
"""Observation metrics that outcomes name differently."""


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
    fit_until: int,
) -> list[Target]:
    """The observed figures inside the scenario's years up to ``fit_until`` as targets;
    every problem at once.

    Only ``observed`` rows can be targets: a plan says what someone meant to pay, a start
    figure is the model's own input. Rows after ``fit_until`` are not read at all, so they
    can judge the calibration (``backtest --split``) without having shaped it.
    """
    found = read_observations(observations, list(scenario.clusters), scenario.years)
    first = min(scenario.years)
    problems = []
    known = [o.year for o in found.scored if o.kind == OBSERVED and o.year is not None]
    if not known or not first <= fit_until <= max(known):
        span = f"{min(known)}–{max(known)}" if known else "none"
        problems.append(
            problem_line(
                str(experiment_path),
                "calibrate.fit_until",
                f"{fit_until} is outside the observed years inside the run (observed: {span}); "
                "the calibration would fit nothing or everything",
            )
        )
    fitted = [o for o in found.scored if o.kind == OBSERVED and o.year <= fit_until]
    targets = []
    for o in fitted:
        name = f"{o.cluster}:{o.year}:{o.metric}"
        metric = METRIC_OF_OBSERVATION.get(o.metric, o.metric)
        outcome = Outcome(
            metric=metric, year=o.year, cluster=o.cluster if o.cluster != ALL else ALL
        )
        targets.append(Target(name, o, outcome, name in hold_out))
    names = {t.name for t in targets}
    others = {f"{o.cluster}:{o.year}:{o.metric}": o for o in found.scored}
    for h in hold_out:
        if h in names:
            continue
        other = others.get(h)
        if other is not None and other.kind != OBSERVED:
            why = f"is a {other.kind} row, not an observation; only observed figures are held out"
        elif other is not None:
            why = (
                f"is after fit_until {fit_until}: every observation after it is held out "
                f"already (judge them with clusterfund backtest --split {fit_until})"
            )
        else:
            why = (
                f"is no observation of {observations.name} inside the run's years "
                f"(cluster:year:metric; fitted: {', '.join(sorted(names))})"
            )
        problems.append(problem_line(str(experiment_path), "calibrate.hold_out", f"'{h}' {why}"))
    if targets and not any(not t.held_out for t in targets):
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
