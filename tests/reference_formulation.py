"""The program as :mod:`simulator.formulation` wrote it before it was made fast (main at
20010ad), kept unchanged as the tests' oracle: row specs as Python lists, every name
made, the matrix sorted column-wise at the end. The tests check that the fast build
gives exactly these arrays, orders and names.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from simulator.formulation import YearInputs
from simulator.scenario import AREAS, Allocator, Project

INF = float("inf")
_PULP_ILLEGAL = str.maketrans("-+[] ->/", "________")


def row_name(kind: str, *parts: object) -> str:
    """A constraint's name: what it means, then what it is about (``arena_budget_2021``)."""
    return "_".join([kind, *map(str, parts)])


def column_name(kind: str, *parts: object) -> str:
    """A column's name as PuLP will spell it (``x_P01_2021``, ``shortfall_cover_a_2021``)."""
    return "_".join([kind, *map(str, parts)]).translate(_PULP_ILLEGAL)


def project_weight(project: Project, at_risk: frozenset[str], options: Allocator) -> float:
    """Objective weight: growth seeds and projects with clusters at risk count more."""
    weight = options.growth_seed_weight if project.growth_seed else 1.0
    risky = sum(1 for c in project.clusters if c in at_risk)
    return weight * options.at_risk_weight**risky


class RowSpec(NamedTuple):
    """One constraint as written: ``lower <= sum coef * x[key] <= upper``."""

    name: str
    entries: list[tuple[tuple[str, int], float]]
    """((project id, year), coefficient) of its terms."""
    lower: float
    upper: float
    soft: bool = False
    """A target met "where the pool allows" (gets a shortfall column with ``soft_targets``)."""


@dataclass(frozen=True)
class Program:
    """The allocation program as arrays (maximise ``cost @ x``).

    The matrix is column-wise: the entries of column j are ``index[start[j]:start[j+1]]``
    (rows, ascending) with values ``value[start[j]:start[j+1]]``.
    """

    column_names: tuple[str, ...]
    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: bool
    """Every project column is binary (``--binary``); shortfall columns stay continuous."""
    row_names: tuple[str, ...]
    row_lower: np.ndarray
    row_upper: np.ndarray
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray
    columns: dict[tuple[str, int], int]
    """(project id, year) → its column."""
    shortfall: dict[int, int]
    """Soft row → its shortfall column (empty without ``soft_targets``)."""
    budget_rows: dict[int, int]
    """Year → its budget row."""
    impact: np.ndarray
    """The objective without the shortfall penalty (the impact score of each column)."""

    @property
    def num_col(self) -> int:
        """Number of columns."""
        return len(self.column_names)

    @property
    def num_row(self) -> int:
        """Number of rows."""
        return len(self.row_names)

    def row_entries(self) -> list[list[tuple[int, float]]]:
        """The matrix row by row: (column, coefficient) in column order."""
        rows: list[list[tuple[int, float]]] = [[] for _ in self.row_names]
        for j in range(self.num_col):
            for k in range(int(self.start[j]), int(self.start[j + 1])):
                rows[int(self.index[k])].append((j, float(self.value[k])))
        return rows


def year_rows(inputs: YearInputs, options: Allocator) -> Iterator[RowSpec]:
    """One year's constraints, in order: budget, area shares, cluster caps and cover,
    co-funding ratio, commitments."""
    y, budget = inputs.year, inputs.budget
    yield RowSpec(
        row_name("arena_budget", y),
        [((p.id, y), p.cost_per_year) for p in inputs.projects],
        -INF,
        budget,
    )
    yield from _area_rows(inputs, options)
    yield from _cluster_rows(inputs, options)
    if options.cofunding_min_ratio > 0:
        new_starts = [p for p in inputs.projects if p.id not in inputs.commitments]
        if new_starts:
            ratio = options.cofunding_min_ratio
            entries = [
                ((p.id, y), p.cofunding_per_year - ratio * p.cost_per_year) for p in new_starts
            ]
            yield RowSpec(row_name("cofunding_ratio", y), entries, 0.0, INF)
    for pid, fraction in sorted(inputs.commitments.items()):
        yield RowSpec(row_name("commitment", pid, y), [((pid, y), 1.0)], fraction, INF)


def _area_rows(inputs: YearInputs, options: Allocator) -> Iterator[RowSpec]:
    """``sum cost x >= min(share B, eligible cost in the area)`` per area with a share."""
    y = inputs.year
    for area in AREAS:
        share = options.area_min_share.get(area, 0.0)
        in_area = [((p.id, y), p.cost_per_year) for p in inputs.projects if p.area == area]
        if share > 0 and in_area:
            need = min(share * inputs.budget, sum(c for _, c in in_area))
            yield RowSpec(row_name("area_min_share", area, y), in_area, need, INF, soft=True)


def _cluster_rows(inputs: YearInputs, options: Allocator) -> Iterator[RowSpec]:
    """Per cluster taking part (sorted): the cap on money reaching it, and the cover rule."""
    y = inputs.year
    by_cluster: dict[str, list[Project]] = {}
    for p in inputs.projects:
        for c in p.clusters:
            by_cluster.setdefault(c, []).append(p)
    for c in sorted(by_cluster):
        projects = by_cluster[c]
        if options.cluster_cap_share < 1.0:
            entries = [((p.id, y), p.cost_per_year / len(p.clusters)) for p in projects]
            yield RowSpec(
                row_name("cluster_cap", c, y),
                entries,
                -INF,
                options.cluster_cap_share * inputs.budget,
            )
        if options.cover_every_cluster and c in inputs.open_clusters and inputs.budget > 0:
            entries = [((p.id, y), 1.0) for p in projects]
            yield RowSpec(
                row_name("cover", c, y), entries, options.min_cover_fraction, INF, soft=True
            )


def project_years_rows(years: Sequence[YearInputs]) -> Iterator[RowSpec]:
    """Over several years: ``sum_y x[p, y] <= duration_p`` per project (sorted by id)."""
    if len(years) <= 1:
        return
    keys: dict[str, list[tuple[str, int]]] = {}
    durations: dict[str, int] = {}
    for inputs in years:
        for p in inputs.projects:
            keys.setdefault(p.id, []).append((p.id, inputs.year))
            durations[p.id] = p.duration
    for pid in sorted(keys):
        entries = [(key, 1.0) for key in keys[pid]]
        yield RowSpec(row_name("project_years", pid), entries, -INF, float(durations[pid]))


def formulate(
    years: Sequence[YearInputs],
    options: Allocator,
    *,
    binary: bool | None = None,
    shortfalls: bool | None = None,
) -> Program:
    """The allocation program over one or more years.

    With ``shortfalls`` (default: ``options.soft_targets``) every soft row gets a
    shortfall column that costs more in the objective than all projects together
    bring. ``binary`` (default: ``options.binary``) makes the project columns binary.
    """
    binary = options.binary if binary is None else binary
    shortfalls = options.soft_targets if shortfalls is None else shortfalls
    impact = {
        (p.id, inputs.year): project_weight(p, inputs.at_risk, options) * p.impact
        for inputs in years
        for p in inputs.projects
    }
    rows: list[RowSpec] = []
    budget_rows: dict[int, int] = {}
    for inputs in years:
        budget_rows[inputs.year] = len(rows)  # each year's rows start with its budget
        rows += year_rows(inputs, options)
    rows += project_years_rows(years)
    soft_rows = [r for r, row in enumerate(rows) if row.soft] if shortfalls else []
    # PuLP orders columns by name: so does the program
    order = sorted(
        [(column_name("x", *key), key) for key in impact]
        + [(column_name("shortfall", rows[r].name), r) for r in soft_rows]
    )
    column_of = {what: j for j, (_, what) in enumerate(order)}
    columns = {key: column_of[key] for key in impact}
    shortfall = {r: column_of[r] for r in soft_rows}
    cost, x_impact = np.zeros(len(order)), np.zeros(len(order))
    for key, c in impact.items():
        cost[columns[key]] = x_impact[columns[key]] = c
    # a shortfall costs more than any project can bring, so a target is met wherever possible
    cost[list(shortfall.values())] = -(1.0 + sum(abs(c) for c in impact.values()))
    col_upper = np.full(len(order), 1.0)
    col_upper[list(shortfall.values())] = INF
    start, index, value = _column_wise(rows, columns, shortfall, len(order))
    return Program(
        column_names=tuple(name for name, _ in order),
        cost=cost,
        col_lower=np.zeros(len(order)),
        col_upper=col_upper,
        integer=binary,
        row_names=tuple(row.name for row in rows),
        row_lower=np.array([row.lower for row in rows], dtype=float),
        row_upper=np.array([row.upper for row in rows], dtype=float),
        start=start,
        index=index,
        value=value,
        columns=columns,
        shortfall=shortfall,
        budget_rows=budget_rows,
        impact=x_impact,
    )


def _column_wise(
    rows: list[RowSpec],
    columns: dict[tuple[str, int], int],
    shortfall: dict[int, int],
    num_col: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows' terms (and each shortfall column's +1 in its row) as a column-wise matrix
    (start, index, value), rows ascending within a column; zero coefficients left out."""
    col, row, value = [], [], []
    for r, spec in enumerate(rows):
        for key, coef in spec.entries:
            if coef != 0:
                col.append(columns[key])
                row.append(r)
                value.append(coef)
    for r, j in shortfall.items():
        col.append(j)
        row.append(r)
        value.append(1.0)
    cols = np.array(col, dtype=np.int32)
    rows_ = np.array(row, dtype=np.int32)
    order = np.lexsort((rows_, cols))
    start = np.searchsorted(cols[order], np.arange(num_col + 1)).astype(np.int32)
    return start, rows_[order], np.array(value, dtype=float)[order]
