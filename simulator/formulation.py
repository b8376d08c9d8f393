"""The arena allocation program, written once, as plain arrays.

:func:`formulate` turns one or more years of :class:`YearInputs` into a
:class:`Program`: its columns (the ``x[p, y]`` of each project and year, and a
shortfall column for each soft target), objective, column bounds, rows (what each
is about, and bounds) and sparse matrix, with index maps (the column of each project
and year, the budget row of each year, the shortfall column of each soft row). Every
rule of the formulation (described in :mod:`simulator.lp`) lives here: which rows
exist, their bounds and coefficients, the objective weights and the shortfall
penalty. The PuLP model (:func:`simulator.lp.build_program`) and the HiGHS fast
path (:mod:`simulator.lp_highs`) are both made from a :class:`Program`, so
neither decides anything of its own, and nothing finds a row or column by its
name. The fast path builds an ensemble's one-year programs many at once, in arrays
(:mod:`simulator.formulation_batch`): that is a second writing of these rules, and
``tests/test_formulation_batch.py`` holds it to this one, program for program and bit
for bit. A change of rule here must be made there too; those tests fail until it is.

The rows are written straight into flat lists of terms (row, column key,
coefficient), which become the column-wise matrix in a few numpy steps; a row's name
is made only when someone asks for it (the PuLP model, MPS export and conflict
naming do; the fast path does not). Columns are ordered by the name PuLP gives them
(PuLP always orders a model's variables by name), so both paths hand HiGHS the same
model, column for column, and get the same vertex back. Rows are in the order they
are written here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import numpy as np

from simulator.scenario import AREAS, Allocator, AnyProject

INF = float("inf")
_PULP_ILLEGAL = str.maketrans("-+[] ->/", "________")


@dataclass(frozen=True)
class YearInputs:
    """One year's data for the program."""

    year: int
    budget: float
    projects: tuple[AnyProject, ...]
    """Projects that get a variable this year (eligible new ones and live commitments)."""
    commitments: Mapping[str, float] = field(default_factory=dict)
    """Project id → least fraction (started earlier)."""
    open_clusters: frozenset[str] = frozenset()
    at_risk: frozenset[str] = frozenset()
    cut: frozenset[str] = frozenset()
    """Commitments cut below their contract this year: paid a share, so their columns stay
    continuous in binary mode (a binary column with ``x >= 0.6`` could only pay all)."""


def row_name(kind: str, *parts: object) -> str:
    """A constraint's name: what it means, then what it is about (``arena_budget_2021``)."""
    return "_".join([kind, *map(str, parts)])


@lru_cache(maxsize=1 << 14, typed=True)  # typed: 1 and True, 2021 and 2021.0 spell differently
def column_name(kind: str, *parts: object) -> str:
    """A column's name as PuLP will spell it (``x_P01_2021``, ``shortfall_cover_a_2021``).

    Remembered (the same few thousand names come back in every run of an ensemble, and
    the program is ordered by them)."""
    return "_".join([kind, *map(str, parts)]).translate(_PULP_ILLEGAL)


def project_weight(project: AnyProject, at_risk: frozenset[str], options: Allocator) -> float:
    """Objective weight: growth seeds and projects with clusters at risk count more."""
    weight = options.growth_seed_weight if project.growth_seed else 1.0
    risky = sum(c in at_risk for c in project.clusters) if at_risk else 0
    return weight * options.at_risk_weight**risky


class _Rows:
    """The rows as they are written, in order.

    Each row has a label (its kind and what it is about, from which :func:`row_name`
    makes its name when someone asks), bounds and terms. The terms of all rows are kept
    as three parallel lists: the row, the key (the index of the term's ``(project id,
    year)`` among the program's keys) and the coefficient.
    """

    def __init__(self) -> None:
        self.labels: list[tuple[str, tuple[object, ...]]] = []
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.soft: list[int] = []
        """Rows met "where the pool allows" (they get a shortfall column with ``soft_targets``)."""
        self.term_row: list[int] = []
        self.term_key: list[int] = []
        self.term_coef: list[float] = []

    def add(
        self,
        label: tuple[str, tuple[object, ...]],
        keys: list[int],
        coefs: list[float],
        lower: float,
        upper: float,
        *,
        soft: bool = False,
    ) -> None:
        """Write ``lower <= sum coefs[i] * x[keys[i]] <= upper``."""
        r = len(self.labels)
        if soft:
            self.soft.append(r)
        self.labels.append(label)
        self.lower.append(lower)
        self.upper.append(upper)
        self.term_row += [r] * len(keys)
        self.term_key += keys
        self.term_coef += coefs


@dataclass(frozen=True)
class Program:
    """The allocation program as arrays (maximise ``cost @ x``).

    The matrix is column-wise: the entries of column j are ``index[start[j]:start[j+1]]``
    (rows, ascending) with values ``value[start[j]:start[j+1]]``. Row names are made
    only when asked (:attr:`row_names`): the HiGHS fast path never needs them.
    """

    column_names: tuple[str, ...]
    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: bool
    """Every project column is binary (``--binary``) but those in ``fractional``; shortfall
    columns stay continuous."""
    row_labels: tuple[tuple[str, tuple[object, ...]], ...]
    """Each row's kind and what it is about (its name is ``row_name(kind, *parts)``)."""
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
    fractional: frozenset[int] = frozenset()
    """Project columns that stay continuous in binary mode: cut commitments
    (:attr:`YearInputs.cut`)."""

    @cached_property
    def row_names(self) -> tuple[str, ...]:
        """Each row's name (``arena_budget_2021``), made when first asked."""
        return tuple(row_name(kind, *parts) for kind, parts in self.row_labels)

    @property
    def num_col(self) -> int:
        """Number of columns."""
        return len(self.column_names)

    @property
    def num_row(self) -> int:
        """Number of rows."""
        return len(self.row_labels)

    def row_entries(self) -> list[list[tuple[int, float]]]:
        """The matrix row by row: (column, coefficient) in column order."""
        rows: list[list[tuple[int, float]]] = [[] for _ in self.row_labels]
        for j in range(self.num_col):
            for k in range(int(self.start[j]), int(self.start[j + 1])):
                rows[int(self.index[k])].append((j, float(self.value[k])))
        return rows


def _year_rows(
    rows: _Rows, inputs: YearInputs, key_of: Mapping[tuple[str, int], int], options: Allocator
) -> None:
    """One year's constraints, in order: budget, area shares, cluster caps and cover,
    co-funding ratio, commitments."""
    y, budget, projects = inputs.year, inputs.budget, inputs.projects
    keys = [key_of[(p.id, y)] for p in projects]
    cost = [p.cost_per_year for p in projects]
    by_area: dict[str, list[int]] = {}
    by_cluster: dict[str, list[int]] = {}
    for i, p in enumerate(projects):
        by_area.setdefault(p.area, []).append(i)
        for c in p.clusters:
            by_cluster.setdefault(c, []).append(i)
    rows.add(("arena_budget", (y,)), keys, cost, -INF, budget)
    # sum cost x >= min(share B, eligible cost in the area), per area with a share
    for area in AREAS:
        share = options.area_min_share.get(area, 0.0)
        in_area = by_area.get(area)
        if share > 0 and in_area:
            area_cost = [cost[i] for i in in_area]
            need = min(share * budget, sum(area_cost))
            rows.add(
                ("area_min_share", (area, y)),
                [keys[i] for i in in_area],
                area_cost,
                need,
                INF,
                soft=True,
            )
    # per cluster taking part (sorted): the cap on money reaching it, and the cover rule
    cap = options.cluster_cap_share < 1.0
    cover = options.cover_every_cluster and budget > 0
    cost_per_cluster = (  # each project's money per cluster (none without a cluster: no row)
        [c / len(p.clusters) if p.clusters else 0.0 for c, p in zip(cost, projects, strict=True)]
        if cap
        else []
    )
    for c in sorted(by_cluster):
        members = by_cluster[c]
        member_keys = [keys[i] for i in members]
        if cap:
            rows.add(
                ("cluster_cap", (c, y)),
                member_keys,
                [cost_per_cluster[i] for i in members],
                -INF,
                options.cluster_cap_share * budget,
            )
        if cover and c in inputs.open_clusters:
            rows.add(
                ("cover", (c, y)),
                member_keys,
                [1.0] * len(members),
                options.min_cover_fraction,
                INF,
                soft=True,
            )
    if options.cofunding_min_ratio > 0:
        new_starts = [i for i, p in enumerate(projects) if p.id not in inputs.commitments]
        if new_starts:
            ratio = options.cofunding_min_ratio
            rows.add(
                ("cofunding_ratio", (y,)),
                [keys[i] for i in new_starts],
                [projects[i].cofunding_per_year - ratio * cost[i] for i in new_starts],
                0.0,
                INF,
            )
    for pid, fraction in sorted(inputs.commitments.items()):
        rows.add(("commitment", (pid, y)), [key_of[(pid, y)]], [1.0], fraction, INF)


def _project_years_rows(
    rows: _Rows, years: Sequence[YearInputs], key_of: Mapping[tuple[str, int], int]
) -> None:
    """Over several years: ``sum_y x[p, y] <= duration_p`` per project (sorted by id)."""
    if len(years) <= 1:
        return
    keys: dict[str, list[int]] = {}
    durations: dict[str, int] = {}
    for inputs in years:
        for p in inputs.projects:
            keys.setdefault(p.id, []).append(key_of[(p.id, inputs.year)])
            durations[p.id] = p.duration
    for pid in sorted(keys):
        terms = keys[pid]
        rows.add(("project_years", (pid,)), terms, [1.0] * len(terms), -INF, float(durations[pid]))


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
    impact = {  # not a growth seed, no cluster at risk this year: weight 1, no project_weight call
        (p.id, inputs.year): (
            project_weight(p, inputs.at_risk, options) * p.impact
            if p.growth_seed or inputs.at_risk
            else p.impact
        )
        for inputs in years
        for p in inputs.projects
    }
    key_of = {key: k for k, key in enumerate(impact)}
    rows = _Rows()
    budget_rows: dict[int, int] = {}
    for inputs in years:
        budget_rows[inputs.year] = len(rows.labels)  # each year's rows start with its budget
        _year_rows(rows, inputs, key_of, options)
    _project_years_rows(rows, years, key_of)
    soft_rows = rows.soft if shortfalls else []
    # PuLP orders columns by name: so does the program
    soft_names = [row_name(kind, *parts) for kind, parts in (rows.labels[r] for r in soft_rows)]
    order = sorted(
        [(column_name("x", *key), key) for key in impact]
        + [
            (column_name("shortfall", name), r)
            for name, r in zip(soft_names, soft_rows, strict=True)
        ]
    )
    column_of = {what: j for j, (_, what) in enumerate(order)}
    columns = {key: column_of[key] for key in impact}
    shortfall = {r: column_of[r] for r in soft_rows}
    num_col = len(order)
    x_columns = list(columns.values())  # by key
    x_impact = np.zeros(num_col)
    x_impact[x_columns] = list(impact.values())
    # a shortfall costs more than any project can bring, so a target is met wherever possible
    soft_columns = list(shortfall.values())
    cost = x_impact.copy()
    cost[soft_columns] = -(1.0 + sum(abs(c) for c in impact.values()))
    col_upper = np.ones(num_col)
    col_upper[soft_columns] = INF
    start, index, value = _column_wise(rows, x_columns, shortfall, num_col)
    return Program(
        column_names=tuple(name for name, _ in order),
        cost=cost,
        col_lower=np.zeros(num_col),
        col_upper=col_upper,
        integer=binary,
        row_labels=tuple(rows.labels),
        row_lower=np.array(rows.lower, dtype=float),
        row_upper=np.array(rows.upper, dtype=float),
        start=start,
        index=index,
        value=value,
        columns=columns,
        shortfall=shortfall,
        budget_rows=budget_rows,
        impact=x_impact,
        fractional=frozenset(columns[(pid, inputs.year)] for inputs in years for pid in inputs.cut),
    )


def _column_wise(
    rows: _Rows, x_columns: list[int], shortfall: dict[int, int], num_col: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows' terms (and each shortfall column's +1 in its row) as a column-wise matrix
    (start, index, value), rows ascending within a column; zero coefficients left out."""
    coefs = rows.term_coef + [1.0] * len(shortfall)
    row = np.array(rows.term_row + list(shortfall), dtype=np.int32)
    col = np.array(x_columns + list(shortfall.values()), np.int32)  # x columns by key, then soft
    col = col[rows.term_key + list(range(len(x_columns), len(col)))]
    value = np.array(coefs, dtype=float)
    if 0.0 in coefs:
        kept = value != 0
        row, col, value = row[kept], col[kept], value[kept]
    order = np.lexsort((row, col))
    start = np.searchsorted(col[order], np.arange(num_col + 1)).astype(np.int32)
    return start, row[order], value[order]
