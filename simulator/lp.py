"""The arena allocator as a linear program in PuLP.

Variables: ``x[p, y]`` in [0, 1], the funded fraction of project p's yearly cost in
year y (binary in ``--binary`` mode). For each year y, with budget ``B_y``:

- objective: maximise ``sum w_p * impact_p * x[p, y]``, where ``w_p`` is
  ``growth_seed_weight`` for a growth-area seed times ``at_risk_weight`` per
  participating cluster at risk;
- ``arena_budget_<y>``: ``sum cost_p x[p, y] <= B_y``;
- ``area_min_share_<area>_<y>``: ``sum_{p in area} cost_p x[p, y] >= min(share_a B_y,
  eligible cost in the area)`` (the pool allows only what it holds);
- ``cluster_cap_<c>_<y>``: ``sum_{p with c} cost_p / n_p x[p, y] <= cap B_y`` (money
  reaching cluster c; a project's money is split equally among its n_p clusters);
- ``cover_<c>_<y>``: ``sum_{p with c} x[p, y] >= min_cover_fraction`` for every open
  cluster with an eligible project;
- ``cofunding_ratio_<y>``: ``sum cofunding_p x[p, y] >= ratio * sum cost_p x[p, y]`` over
  the projects starting in y (commitments were approved under the rule when they started);
- ``commitment_<p>_<y>``: ``x[p, y] >= f_p`` for a project started earlier at f_p (as
  cut this year when the budget or a cluster cap cannot cover every commitment: see
  :func:`simulator.allocation.cut_commitments`; a cut commitment's column stays
  continuous in binary mode, as it is paid a share);
- over several years (planning mode), ``project_years_<p>``: ``sum_y x[p, y] <= duration_p``.

With ``soft_targets`` (the default) the area shares and the cover rule are met "where
the pool allows": each gets a shortfall variable that costs more in the objective
than all projects together bring, so it is zero whenever the other constraints allow
(the reported objective excludes it). Without it they are hard, and a thin pool can
make the problem infeasible.

Projects with a closed cluster get no variable (they are not eligible).

Where several allocations are optimal, the continuous LP's answer is the one the
documented tie-break prefers (:mod:`simulator.tie_break`: the most money to the projects
first by id), whatever the solver (:func:`break_ties`).

The rules above are written once, in :mod:`simulator.formulation`, which gives the
program as arrays; :func:`build_program` turns them into a PuLP model (binary mode,
CBC, the elastic relaxation, the conflict search, slacks and MPS export), and
:mod:`simulator.lp_highs` hands the same arrays to HiGHS directly. Expressions are
built at once from (variable, coefficient) lists, which is several times faster
than summing ``lpSum`` generators on large pools.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pulp

from simulator.allocation import (
    Allocation,
    AllocationRequest,
    eligible_new_projects,
    live_commitments,
    problem_key,
    request_pool,
)
from simulator.formulation import INF, Program, YearInputs, formulate, project_weight
from simulator.scenario import Allocator, AnyProject
from simulator.tie_break import optimal_face, same_impact, ties_possible

__all__ = ["YearInputs", "project_weight"]  # also here, where the formulation is described

ELASTIC_PENALTY = 1.0
SOLVED = "Optimal"


class InfeasibleAllocation(Exception):
    """The allocation problem has no solution.

    ``conflict`` names an irreducible set of constraints that cannot hold together;
    ``relaxation`` says which constraints would have to give, and by how much, in the
    smallest total relaxation (the elastic problem).
    """

    def __init__(self, year: int, conflict: Sequence[str], relaxation: Mapping[str, float]) -> None:
        super().__init__(year, list(conflict), dict(relaxation))
        self.year = year
        self.conflict = list(conflict)
        self.relaxation = dict(relaxation)

    def __str__(self) -> str:
        give = ", ".join(f"{name} by {amount:.4g}" for name, amount in self.relaxation.items())
        return (
            f"the arena allocation for {self.year} is infeasible: these constraints conflict: "
            f"{', '.join(self.conflict)}; the smallest fix relaxes {give}"
        )


@dataclass
class BuiltProgram:
    """A PuLP problem with its variables by (project id, year)."""

    problem: pulp.LpProblem
    variables: dict[tuple[str, int], pulp.LpVariable]
    slacks: dict[str, tuple[pulp.LpVariable, float]] = field(default_factory=dict)
    """Elastic mode: constraint name → (slack variable, sign)."""
    rows: dict[str, pulp.LpConstraint] = field(default_factory=dict)
    """Every constraint by name (its ``pi`` and ``slack`` are filled in by the solve)."""
    impact: pulp.LpAffineExpression | None = None
    """The impact score (the objective without penalties)."""
    budget_rows: dict[int, pulp.LpConstraint] = field(default_factory=dict)
    """Year → its budget constraint."""
    program: Program | None = None
    """The program the model was made from."""
    by_column: dict[int, pulp.LpVariable] = field(default_factory=dict)
    """The program's column → its variable (every column the model holds)."""


def build_program(
    years: Sequence[YearInputs],
    options: Allocator,
    *,
    binary: bool | None = None,
    elastic: bool = False,
    only: frozenset[str] | None = None,
) -> BuiltProgram:
    """Build the allocation program over one or more years as a PuLP model.

    The program is :func:`simulator.formulation.formulate`'s; this only turns it into
    PuLP objects. With ``elastic``, every constraint gets a non-negative slack and the
    objective becomes the total slack (no shortfall columns): its optimum shows which
    constraints must give, and by how much. With ``only``, constraints not named in it
    are left out, with their shortfall columns (to isolate a conflict).
    """
    shortfalls = False if elastic else None
    program = formulate(years, options, binary=False if elastic else binary, shortfalls=shortfalls)
    return to_pulp(program, elastic=elastic, only=only)


def to_pulp(
    program: Program, *, elastic: bool = False, only: frozenset[str] | None = None
) -> BuiltProgram:
    """The PuLP model of ``program`` (see :func:`build_program` for ``elastic`` and ``only``)."""
    problem = pulp.LpProblem("arena_allocation", pulp.LpMinimize if elastic else pulp.LpMaximize)
    kept = [only is None or name in only for name in program.row_names]
    dropped = {j for r, j in program.shortfall.items() if not kept[r]}
    category = pulp.LpBinary if program.integer else pulp.LpContinuous
    column: dict[int, pulp.LpVariable] = {}
    shortfalls = set(program.shortfall.values())
    for j, name in enumerate(program.column_names):
        if j in dropped:
            continue
        upper = float(program.col_upper[j])
        column[j] = problem.add_variable(
            name,
            lowBound=float(program.col_lower[j]),
            upBound=None if upper == INF else upper,
            cat=pulp.LpContinuous if j in shortfalls or j in program.fractional else category,
        )
    built = BuiltProgram(
        problem,
        {key: column[j] for key, j in program.columns.items()},
        program=program,
        by_column=column,
    )
    for r, pairs in enumerate(program.row_entries()):
        if not kept[r]:
            continue
        name = program.row_names[r]
        lower, upper = float(program.row_lower[r]), float(program.row_upper[r])
        if lower == upper:  # a row held at its bound (:func:`simulator.tie_break.optimal_face`)
            sense = pulp.LpConstraintEQ
        else:
            sense = pulp.LpConstraintLE if lower == -INF else pulp.LpConstraintGE
        terms = [(column[j], coef) for j, coef in pairs]
        if elastic:
            slack = problem.add_variable(f"slack_{name}", lowBound=0)
            # a <= row gives by going down, a >= row by going up
            sign = -1.0 if sense == pulp.LpConstraintLE else 1.0
            terms.append((slack, sign))
            built.slacks[name] = (slack, sign)
        row = pulp.LpConstraint(
            pulp.LpAffineExpression(terms), sense, name, upper if lower == -INF else lower
        )
        problem.addConstraint(row)
        built.rows[name] = row
    built.budget_rows = {
        y: built.rows[program.row_names[r]] for y, r in program.budget_rows.items() if kept[r]
    }
    if elastic:
        problem.setObjective(
            pulp.LpAffineExpression([(s, ELASTIC_PENALTY) for s, _ in built.slacks.values()])
        )
    else:
        objective = [(var, float(program.cost[j])) for j, var in column.items()]
        built.impact = pulp.LpAffineExpression(
            [(column[j], float(program.impact[j])) for j in program.columns.values()]
        )
        problem.setObjective(pulp.LpAffineExpression(objective))
    return built


@cache
def quiet_highs() -> None:
    """HiGHS prints a banner once per process on its first use; take it here, silently."""
    import highspy

    with _stdout_to_devnull():
        highspy.Highs()


@contextlib.contextmanager
def _stdout_to_devnull() -> Iterator[None]:
    fd = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(fd, 1)
        os.close(fd)


@cache
def highs_available() -> bool:
    """Whether HiGHS can run in-process (highspy is installed)."""
    return bool(pulp.HiGHS().available())


def solver_for(name: str, time_limit: float | None = None, *, mip: bool = False) -> pulp.LpSolver:
    """HiGHS in-process (``highs``), or PuLP's bundled CBC (``cbc``). A continuous LP is
    solved by HiGHS without presolve, as the fast path (:mod:`simulator.lp_highs`) solves
    it; a MIP (``mip``, binary mode) with HiGHS's defaults."""
    if name == "highs":
        if highs_available():
            quiet_highs()
            if mip:
                return pulp.HiGHS(msg=False, timeLimit=time_limit)
            return pulp.HiGHS(msg=False, timeLimit=time_limit, presolve="off")
        name = "cbc"
    return pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit)


def solve(built: BuiltProgram, solver: pulp.LpSolver) -> str:
    """Solve and return PuLP's status text; a time-limited stop without proof is not ``Optimal``."""
    built.problem.solve(solver)
    status = pulp.LpStatus[built.problem.status]
    if status == SOLVED and built.problem.sol_status not in (
        pulp.LpSolutionOptimal,
        pulp.LpSolutionIntegerFeasible,
    ):
        return pulp.LpSolution[built.problem.sol_status]
    if status == SOLVED and built.problem.sol_status == pulp.LpSolutionIntegerFeasible:
        return "Not proven optimal (time limit)"
    return status


def relax_infeasible(
    years: Sequence[YearInputs], options: Allocator, solver: pulp.LpSolver
) -> dict[str, float]:
    """Constraints that must give for the problem to become feasible, and by how much.

    Solves the elastic version (every constraint with a penalised slack) and returns
    the constraints whose slack is positive.
    """
    elastic = build_program(years, options, binary=False, elastic=True)
    solve(elastic, solver)
    return {
        name: float(slack.value())
        for name, (slack, _sign) in elastic.slacks.items()
        if slack.value() is not None and slack.value() > 1e-7
    }


def conflicting_constraints(
    years: Sequence[YearInputs], options: Allocator, solver: pulp.LpSolver
) -> list[str]:
    """An irreducible infeasible set of constraints (deletion filter over the named rows).

    Each constraint is dropped in turn; when the rest is still infeasible it stays
    dropped. What remains conflicts, and drops any one of them and it is feasible.
    """
    names = list(build_program(years, options, binary=False).rows)
    keep = set(names)
    for name in names:
        trial = frozenset(keep - {name})
        if solve(build_program(years, options, binary=False, only=trial), solver) == "Infeasible":
            keep = set(trial)
    return [name for name in names if name in keep]


@dataclass(frozen=True)
class ProgramResult:
    """Status, objective, fractions, shadow prices and slacks of a solved program."""

    status: str
    objective: float
    fractions: dict[tuple[str, int], float]
    budget_shadow_price: dict[int, float]
    slack: dict[str, float]


def read_result(
    built: BuiltProgram, status: str, years: Sequence[int], binary: bool
) -> ProgramResult:
    """Read values only after the status says the problem is solved."""
    if status != SOLVED:
        raise ValueError(f"cannot read a solution with status {status!r}")
    fractions = {key: float(var.value() or 0.0) for key, var in built.variables.items()}
    prices = {}
    for y in years:
        row = built.budget_rows.get(y)
        prices[y] = float("nan") if binary or row is None or row.pi is None else abs(float(row.pi))
    slack = {
        name: float(row.slack) if row.slack is not None else float("nan")
        for name, row in built.rows.items()
    }
    impact = built.impact if built.impact is not None else built.problem.objective
    return ProgramResult(status, float(pulp.value(impact) or 0.0), fractions, prices, slack)


def break_ties(built: BuiltProgram, result: ProgramResult, solver: pulp.LpSolver) -> ProgramResult:
    """The solved continuous program's answer under the documented tie-break
    (:mod:`simulator.tie_break`): when another optimum might exist, the optimum that the
    tie-break prefers, found by a second solve over the set of optima. The budget's shadow
    price stays the first solve's."""
    program = built.program
    if program is None or program.integer:
        return result
    x = np.array([_number(built.by_column[j].value()) for j in range(program.num_col)])
    reduced = np.array([_number(built.by_column[j].dj) for j in range(program.num_col)])
    dual = np.array([_number(built.rows[name].pi) for name in program.row_names])
    if not ties_possible(program, x, reduced, dual):
        return result
    face = to_pulp(optimal_face(program, x, reduced, dual))
    status = solve(face, solver)
    if status != SOLVED:
        return result  # the set of optima is too thin for the solver: keep the first optimum
    second = np.array([_number(face.by_column[j].value()) for j in range(program.num_col)])
    if not same_impact(program, x, second):
        return result
    chosen = read_result(face, status, list(result.budget_shadow_price), binary=False)
    return ProgramResult(
        result.status, chosen.objective, chosen.fractions, result.budget_shadow_price, chosen.slack
    )


def _number(value: float | None) -> float:
    return 0.0 if value is None else float(value)


def year_inputs(projects: Sequence[AnyProject], request: AllocationRequest) -> YearInputs:
    """The program's data for one allocation request, over ``projects`` and the request's
    proposals."""
    pool = request_pool(projects, request)
    by_id = {p.id: p for p in pool}
    committed = live_commitments(by_id, request)
    new = eligible_new_projects(pool, request)
    return YearInputs(
        year=request.year,
        budget=request.budget,
        projects=tuple([by_id[pid] for pid in sorted(committed)] + new),
        commitments=committed,
        open_clusters=request.eligible_clusters,
        at_risk=request.at_risk,
        cut=frozenset(c.project for c in request.cuts if c.project in committed),
    )


def nothing_to_allocate(inputs: YearInputs, request: AllocationRequest) -> Allocation | None:
    """The answer when no project is eligible and none is committed (no program is solved);
    ``inputs`` is the request's :func:`year_inputs`."""
    if inputs.projects or request.commitments:
        return None
    return Allocation(request.year, {}, status="No eligible projects", objective=0.0)


class LinearProgramAllocator:
    """The LP behind the allocator interface, one year at a time, through PuLP."""

    def __init__(self, projects: Sequence[AnyProject], options: Allocator) -> None:
        self.projects = list(projects)
        self.options = options

    @property
    def cluster_cap_share(self) -> float:
        """The cap of the program's ``cluster_cap`` rows."""
        return self.options.cluster_cap_share

    def problem_key(self, request: AllocationRequest) -> Hashable:
        """What the year's program depends on (see :func:`simulator.allocation.problem_key`)."""
        return problem_key(self.projects, request, weights=True)

    def solve_year(
        self, request: AllocationRequest
    ) -> tuple[YearInputs, BuiltProgram, ProgramResult]:
        """Build and solve one year's program; raise ``InfeasibleAllocation`` naming the conflict."""
        inputs = year_inputs(self.projects, request)
        built = build_program([inputs], self.options)
        solver = solver_for(self.options.solver, mip=self.options.binary)
        status = solve(built, solver)
        if status == "Infeasible":
            raise InfeasibleAllocation(
                request.year,
                conflicting_constraints([inputs], self.options, solver),
                relax_infeasible([inputs], self.options, solver),
            )
        if status != SOLVED:
            raise RuntimeError(
                f"the arena allocation for {request.year} ended with status {status}"
            )
        result = read_result(built, status, [request.year], self.options.binary)
        return inputs, built, break_ties(built, result, solver)

    def allocate(self, request: AllocationRequest) -> Allocation:
        """Allocate one year's arena money by the LP."""
        nothing = nothing_to_allocate(year_inputs(self.projects, request), request)
        if nothing is not None:
            return nothing
        _inputs, _built, result = self.solve_year(request)
        fractions = {
            pid: round(f, 12) for (pid, _y), f in sorted(result.fractions.items()) if f > 1e-9
        }
        return Allocation(
            request.year,
            fractions,
            status=result.status,
            objective=result.objective,
            shadow_price=result.budget_shadow_price[request.year],
            details=result.slack,
        )

    def allocate_all(self, requests: Sequence[AllocationRequest]) -> list[Allocation]:
        """Each request's :meth:`allocate`."""
        return [self.allocate(request) for request in requests]
