"""The arena LP for ensembles: each year's PuLP model handed to HiGHS once, then changed in place.

Within an ensemble the yearly problems differ only in bounds, costs and right-hand
sides: which projects are eligible or committed (column bounds), which clusters are
at risk (column costs), the budget and the targets derived from it (row bounds),
and which projects count for the co-funding ratio (coefficients). So each year's
model is built once by :func:`simulator.lp.build_program` over every project that
could be eligible that year, copied into a ``highspy.Highs`` object, and each
request only changes those numbers and re-solves from scratch (no warm start, so
the answer does not depend on what was solved before). The formulation stays the
PuLP one; an infeasible request is handed to the PuLP allocator, which names the
conflict.
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


@dataclass
class YearModel:
    """One year's superset model in HiGHS, with where each project and named row sits."""

    highs: highspy.Highs
    projects: list[Project]
    column: dict[str, int]
    """Project id → its column."""
    shortfall_columns: np.ndarray
    row: dict[str, int]
    """Constraint name → its row."""
    cofunding_coefficient: dict[str, float]
    """Project id → its coefficient in the co-funding row."""
    zeroed: set[str]
    """Projects whose co-funding coefficient is set to zero now (the committed ones)."""


def _to_highs(
    program: pulp.LpProblem, rows: dict[str, pulp.LpConstraint]
) -> tuple[highspy.Highs, dict[str, int], dict[str, int]]:
    variables = program.variables()
    index = {var.name: i for i, var in enumerate(variables)}
    lp = highspy.HighsLp()
    lp.num_col_ = len(variables)
    lp.num_row_ = len(rows)
    lp.col_cost_ = np.array([program.objective.get(var, 0.0) for var in variables], dtype=float)
    lp.col_lower_ = np.array(
        [var.lowBound if var.lowBound is not None else -INF for var in variables], dtype=float
    )
    lp.col_upper_ = np.array(
        [var.upBound if var.upBound is not None else INF for var in variables], dtype=float
    )
    lower, upper, entries = [], [], []
    for r, row in enumerate(rows.values()):
        rhs = -row.constant
        lower.append(rhs if row.sense in (pulp.LpConstraintGE, pulp.LpConstraintEQ) else -INF)
        upper.append(rhs if row.sense in (pulp.LpConstraintLE, pulp.LpConstraintEQ) else INF)
        entries += [(index[var.name], r, coef) for var, coef in row.items()]
    entries.sort()
    cols = np.array([c for c, _, _ in entries], dtype=np.int32)
    lp.row_lower_, lp.row_upper_ = np.array(lower, dtype=float), np.array(upper, dtype=float)
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.searchsorted(cols, np.arange(len(variables) + 1)).astype(np.int32)
    lp.a_matrix_.index_ = np.array([r for _, r, _ in entries], dtype=np.int32)
    lp.a_matrix_.value_ = np.array([v for _, _, v in entries], dtype=float)
    quiet_highs()
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.passModel(lp)
    return highs, index, {name: r for r, name in enumerate(rows)}


class InPlaceLinearProgramAllocator:
    """The LP allocator for ensembles (continuous, HiGHS): one model per year, changed in place."""

    def __init__(self, projects: Sequence[Project], options: Allocator) -> None:
        self.projects = list(projects)
        self.options = options
        self.fallback = LinearProgramAllocator(projects, options)
        self.models: dict[int, YearModel] = {}

    def _model(self, year: int) -> YearModel:
        if year not in self.models:
            superset = [p for p in self.projects if p.earliest_start <= year]
            clusters = frozenset(c for p in superset for c in p.clusters)
            inputs = YearInputs(year, 1.0, tuple(superset), open_clusters=clusters)
            built = build_program([inputs], self.options, binary=False)
            highs, index, rows = _to_highs(built.problem, built.rows)
            cofunding = built.rows.get(f"cofunding_ratio_{year}")
            self.models[year] = YearModel(
                highs=highs,
                projects=superset,
                column={p.id: index[built.variables[(p.id, year)].name] for p in superset},
                shortfall_columns=np.array(
                    [i for name, i in index.items() if name.startswith("shortfall_")],
                    dtype=np.int32,
                ),
                row=rows,
                cofunding_coefficient=(
                    {
                        pid: float(cofunding.get(built.variables[(pid, year)], 0.0))
                        for pid in (p.id for p in superset)
                    }
                    if cofunding is not None
                    else {}
                ),
                zeroed=set(),
            )
        return self.models[year]

    def allocate(self, request: AllocationRequest) -> Allocation:
        """Allocate one year's arena money by the LP, changing the cached model in place."""
        if not eligible_new_projects(self.projects, request) and not request.commitments:
            return Allocation(request.year, {}, status="No eligible projects", objective=0.0)
        model = self._model(request.year)
        inputs = year_inputs(self.projects, request)
        self._set_columns(model, inputs)
        self._set_rows(model, inputs)
        highs = model.highs
        highs.clearSolver()
        highs.run()
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return self.fallback.allocate(request)  # names the conflict, or reports the status
        solution = highs.getSolution()
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

    def _set_columns(self, model: YearModel, inputs: YearInputs) -> None:
        n = len(model.projects)
        columns = np.array([model.column[p.id] for p in model.projects], dtype=np.int32)
        lower, upper, cost = np.zeros(n), np.zeros(n), np.zeros(n)
        position = {p.id: i for i, p in enumerate(model.projects)}
        for project in inputs.projects:
            i = position[project.id]
            upper[i] = 1.0
            lower[i] = inputs.commitments.get(project.id, 0.0)
            cost[i] = project_weight(project, inputs.at_risk, self.options) * project.impact
        model.highs.changeColsBounds(n, columns, lower, upper)
        model.highs.changeColsCost(n, columns, cost)
        if model.shortfall_columns.size:
            penalty = 1.0 + float(np.abs(cost).sum())
            k = model.shortfall_columns.size
            model.highs.changeColsCost(k, model.shortfall_columns, np.full(k, -penalty))

    def _set_rows(self, model: YearModel, inputs: YearInputs) -> None:
        """Right-hand sides as ``build_program`` would set them for this request; rows it
        would leave out are made free."""
        y, budget, options = inputs.year, inputs.budget, self.options
        highs, row = model.highs, model.row
        highs.changeRowBounds(row[f"arena_budget_{y}"], -INF, budget)
        for area in AREAS:
            name = f"area_min_share_{area}_{y}"
            if name in row:
                in_area = [p.cost_per_year for p in inputs.projects if p.area == area]
                need = min(options.area_min_share.get(area, 0.0) * budget, sum(in_area))
                highs.changeRowBounds(row[name], need if in_area else -INF, INF)
        taking_part = {c for p in inputs.projects for c in p.clusters}
        for name, r in row.items():
            if name.startswith("cluster_cap_"):
                highs.changeRowBounds(r, -INF, options.cluster_cap_share * budget)
            elif name.startswith("cover_"):
                cluster = name[len("cover_") : -len(f"_{y}")]
                active = cluster in taking_part and cluster in inputs.open_clusters and budget > 0
                highs.changeRowBounds(r, options.min_cover_fraction if active else -INF, INF)
        name = f"cofunding_ratio_{y}"
        if name in row:
            committed = set(inputs.commitments)
            for pid in model.zeroed - committed:
                highs.changeCoeff(row[name], model.column[pid], model.cofunding_coefficient[pid])
            for pid in committed - model.zeroed:
                highs.changeCoeff(row[name], model.column[pid], 0.0)
            model.zeroed = committed
            new_starts = any(p.id not in committed for p in inputs.projects)
            highs.changeRowBounds(row[name], 0.0 if new_starts else -INF, INF)
