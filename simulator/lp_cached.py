"""The arena LP for ensembles: each year's PuLP model turned into arrays once, then re-solved
with only its numbers changed.

Within an ensemble the yearly problems differ only in bounds, costs and right-hand
sides: which projects are eligible or committed (column bounds), which clusters are
at risk (column costs), the budget and the targets derived from it (row bounds),
and which projects count for the co-funding ratio (coefficients). So each year's
model is built once by :func:`simulator.lp.build_program` over every project that
could be eligible that year and kept as sparse arrays; a request copies the arrays,
sets those numbers and hands the model to HiGHS afresh. Nothing carries over from
one solve to the next, so an answer does not depend on what was solved before (and
so not on ``--jobs``). The formulation stays the PuLP one; an infeasible request is
handed to the PuLP allocator, which names the conflict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import highspy
import numpy as np
import pulp

from simulator.allocation import Allocation, AllocationRequest, eligible_new_projects
from simulator.lp import (
    LinearProgramAllocator,
    YearInputs,
    build_program,
    project_weight,
    quiet_highs,
    year_inputs,
)
from simulator.scenario import AREAS, Allocator, Project

INF = highspy.kHighsInf


@dataclass(frozen=True)
class YearArrays:
    """One year's superset model as column-wise sparse arrays, with where everything sits."""

    projects: tuple[Project, ...]
    column: dict[str, int]
    """Project id → its column."""
    shortfall_columns: np.ndarray
    row: dict[str, int]
    """Constraint name → its row."""
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray
    cofunding_entry: dict[str, int]
    """Project id → position of its co-funding-row coefficient in ``value``."""
    cap_rows: np.ndarray
    """Rows of the cluster caps."""
    cover_rows: dict[str, int]
    """Cluster id → its cover row."""


def year_arrays(projects: Sequence[Project], options: Allocator, year: int) -> YearArrays:
    """Build ``year``'s PuLP model over every project that could be eligible, as arrays."""
    superset = tuple(p for p in projects if p.may_run_in(year))
    clusters = frozenset(c for p in superset for c in p.clusters)
    built = build_program(
        [YearInputs(year, 1.0, superset, open_clusters=clusters)], options, binary=False
    )
    variables = built.problem.variables()
    column_of = {var.name: i for i, var in enumerate(variables)}
    lower, upper, entries = [], [], []
    for r, row in enumerate(built.rows.values()):
        rhs = -row.constant
        lower.append(rhs if row.sense in (pulp.LpConstraintGE, pulp.LpConstraintEQ) else -INF)
        upper.append(rhs if row.sense in (pulp.LpConstraintLE, pulp.LpConstraintEQ) else INF)
        entries += [(column_of[var.name], r, coef) for var, coef in row.items()]
    entries.sort()
    cols = np.array([c for c, _, _ in entries], dtype=np.int32)
    rows = {name: r for r, name in enumerate(built.rows)}
    cofunding_row = rows.get(f"cofunding_ratio_{year}")
    column = {p.id: column_of[built.variables[(p.id, year)].name] for p in superset}
    position = {(c, r): k for k, (c, r, _) in enumerate(entries)}
    return YearArrays(
        projects=superset,
        column=column,
        shortfall_columns=np.array(
            [i for name, i in column_of.items() if name.startswith("shortfall_")], dtype=np.int32
        ),
        row=rows,
        col_lower=np.array(
            [v.lowBound if v.lowBound is not None else -INF for v in variables], dtype=float
        ),
        col_upper=np.array(
            [v.upBound if v.upBound is not None else INF for v in variables], dtype=float
        ),
        row_lower=np.array(lower, dtype=float),
        row_upper=np.array(upper, dtype=float),
        start=np.searchsorted(cols, np.arange(len(variables) + 1)).astype(np.int32),
        index=np.array([r for _, r, _ in entries], dtype=np.int32),
        value=np.array([v for _, _, v in entries], dtype=float),
        cofunding_entry=(
            {
                pid: position[(c, cofunding_row)]
                for pid, c in column.items()
                if (c, cofunding_row) in position
            }
            if cofunding_row is not None
            else {}
        ),
        cap_rows=np.array(
            [r for name, r in rows.items() if name.startswith("cluster_cap_")], dtype=np.int32
        ),
        cover_rows={
            name[len("cover_") : -len(f"_{year}")]: r
            for name, r in rows.items()
            if name.startswith("cover_")
        },
    )


class CachedLinearProgramAllocator:
    """The LP allocator for ensembles (continuous, HiGHS): one model per year, numbers changed per request."""

    def __init__(self, projects: Sequence[Project], options: Allocator) -> None:
        self.projects = list(projects)
        self.options = options
        self.fallback = LinearProgramAllocator(projects, options)
        self.years: dict[int, YearArrays] = {}
        quiet_highs()
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)

    def add_projects(self, projects: Sequence[Project]) -> None:
        """Open-call proposals join the pool (before the first request of their year)."""
        if any(p.earliest_start in self.years for p in projects):
            raise ValueError("proposals must join before their year's model is built")
        self.projects += projects
        self.fallback.add_projects(projects)

    def allocate(self, request: AllocationRequest) -> Allocation:
        """Allocate one year's arena money by the LP."""
        if not eligible_new_projects(self.projects, request) and not request.commitments:
            return Allocation(request.year, {}, status="No eligible projects", objective=0.0)
        if request.year not in self.years:
            self.years[request.year] = year_arrays(self.projects, self.options, request.year)
        model = self.years[request.year]
        inputs = year_inputs(self.projects, request)
        self.highs.passModel(self._problem(model, inputs))
        self.highs.run()
        if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return self.fallback.allocate(request)  # names the conflict, or reports the status
        solution = self.highs.getSolution()
        values = np.asarray(solution.col_value)
        fractions = {}
        objective = 0.0
        for project in inputs.projects:
            value = float(values[model.column[project.id]])
            objective += (
                project_weight(project, inputs.at_risk, self.options) * project.impact * value
            )
            if value > 1e-9:
                fractions[project.id] = round(min(1.0, value), 12)
        budget_row = model.row[f"arena_budget_{request.year}"]
        shadow = abs(float(np.asarray(solution.row_dual)[budget_row]))
        return Allocation(
            request.year, dict(sorted(fractions.items())), "Optimal", objective, shadow
        )

    def _problem(self, model: YearArrays, inputs: YearInputs) -> highspy.HighsLp:
        """The year's model with this request's bounds, costs, right-hand sides and coefficients,
        each as ``build_program`` would set it (rows it would leave out are made free)."""
        options, budget, y = self.options, inputs.budget, inputs.year
        cost = np.zeros(model.col_lower.size)
        col_lower, col_upper = model.col_lower.copy(), model.col_upper.copy()
        for project in model.projects:
            col_upper[model.column[project.id]] = 0.0
        for project in inputs.projects:
            c = model.column[project.id]
            col_upper[c] = 1.0
            col_lower[c] = inputs.commitments.get(project.id, 0.0)
            cost[c] = project_weight(project, inputs.at_risk, options) * project.impact
        cost[model.shortfall_columns] = -(1.0 + float(np.abs(cost).sum()))
        row_lower, row_upper = model.row_lower.copy(), model.row_upper.copy()
        row_upper[model.row[f"arena_budget_{y}"]] = budget
        for area in AREAS:
            r = model.row.get(f"area_min_share_{area}_{y}")
            if r is not None:
                in_area = [p.cost_per_year for p in inputs.projects if p.area == area]
                need = min(options.area_min_share.get(area, 0.0) * budget, sum(in_area))
                row_lower[r] = need if in_area else -INF
        row_upper[model.cap_rows] = options.cluster_cap_share * budget
        taking_part = {c for p in inputs.projects for c in p.clusters}
        for cluster, r in model.cover_rows.items():
            active = cluster in taking_part and cluster in inputs.open_clusters and budget > 0
            row_lower[r] = options.min_cover_fraction if active else -INF
        value = model.value.copy()
        r = model.row.get(f"cofunding_ratio_{y}")
        if r is not None:
            for pid in inputs.commitments:
                value[model.cofunding_entry[pid]] = 0.0
            new_starts = any(p.id not in inputs.commitments for p in inputs.projects)
            row_lower[r] = 0.0 if new_starts else -INF
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = cost.size, row_lower.size
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, col_lower, col_upper
        lp.row_lower_, lp.row_upper_ = row_lower, row_upper
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = (
            model.start,
            model.index,
            value,
        )
        return lp
