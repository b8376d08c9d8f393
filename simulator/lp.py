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
- ``commitment_<p>_<y>``: ``x[p, y] >= f_p`` for a project started earlier at f_p;
- over several years (planning mode), ``project_years_<p>``: ``sum_y x[p, y] <= duration_p``.

With ``soft_targets`` (the default) the area shares and the cover rule are met "where
the pool allows": each gets a shortfall variable that costs more in the objective
than all projects together bring, so it is zero whenever the other constraints allow
(the reported objective excludes it). Without it they are hard, and a thin pool can
make the problem infeasible.

Projects with a closed cluster get no variable (they are not eligible). Expressions
are built at once from (variable, coefficient) lists, which is several times faster
than summing ``lpSum`` generators on large pools.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

import pulp

from simulator.allocation import (
    Allocation,
    AllocationRequest,
    eligible_new_projects,
    live_commitments,
)
from simulator.scenario import AREAS, Allocator, Project

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


@dataclass(frozen=True)
class YearInputs:
    """One year's data for the program."""

    year: int
    budget: float
    projects: tuple[Project, ...]
    """Projects that get a variable this year (eligible new ones and live commitments)."""
    commitments: Mapping[str, float] = field(default_factory=dict)
    """Project id → least fraction (started earlier)."""
    open_clusters: frozenset[str] = frozenset()
    at_risk: frozenset[str] = frozenset()


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


def project_weight(project: Project, at_risk: frozenset[str], options: Allocator) -> float:
    """Objective weight: growth seeds and projects with clusters at risk count more."""
    weight = options.growth_seed_weight if project.growth_seed else 1.0
    risky = sum(1 for c in project.clusters if c in at_risk)
    return weight * options.at_risk_weight**risky


def _expr(pairs: list[tuple[pulp.LpVariable, float]]) -> pulp.LpAffineExpression:
    return pulp.LpAffineExpression(pairs)


def build_program(
    years: Sequence[YearInputs],
    options: Allocator,
    *,
    binary: bool | None = None,
    elastic: bool = False,
    only: frozenset[str] | None = None,
) -> BuiltProgram:
    """Build the allocation program over one or more years.

    With ``elastic``, every constraint gets a non-negative slack and the objective
    becomes the total slack: its optimum shows which constraints must give, and by how much.
    With ``only``, constraints not named in it are left out (to isolate a conflict).
    """
    binary = options.binary if binary is None else binary
    problem = pulp.LpProblem("arena_allocation", pulp.LpMinimize if elastic else pulp.LpMaximize)
    category = pulp.LpBinary if binary else pulp.LpContinuous
    variables: dict[tuple[str, int], pulp.LpVariable] = {}
    objective: list[tuple[pulp.LpVariable, float]] = []
    built = BuiltProgram(problem, variables)

    soft_slacks: list[pulp.LpVariable] = []

    def add(
        name: str,
        pairs: list[tuple[pulp.LpVariable, float]],
        sense: int,
        rhs: float,
        soft: bool = False,
    ) -> None:
        if only is not None and name not in only:
            return
        if soft and not elastic:
            slack = problem.add_variable(f"shortfall_{name}", lowBound=0)
            soft_slacks.append(slack)
            pairs = [*pairs, (slack, 1.0)]
        elif elastic:
            slack = problem.add_variable(f"slack_{name}", lowBound=0)
            # a <= row gives by going down, a >= row by going up
            sign = -1.0 if sense == pulp.LpConstraintLE else 1.0
            pairs = [*pairs, (slack, sign)]
            built.slacks[name] = (slack, sign)
        row = pulp.LpConstraint(_expr(pairs), sense, name, rhs)
        problem.addConstraint(row)
        built.rows[name] = row

    durations: dict[str, int] = {}
    for inputs in years:
        y = inputs.year
        for project in inputs.projects:
            var = problem.add_variable(f"x_{project.id}_{y}", lowBound=0, upBound=1, cat=category)
            variables[(project.id, y)] = var
            durations[project.id] = project.duration
            weight = project_weight(project, inputs.at_risk, options)
            objective.append((var, weight * project.impact))
        xs = [(variables[(p.id, y)], p) for p in inputs.projects]
        add(
            f"arena_budget_{y}",
            [(v, p.cost_per_year) for v, p in xs],
            pulp.LpConstraintLE,
            inputs.budget,
        )
        for area in AREAS:
            share = options.area_min_share.get(area, 0.0)
            in_area = [(v, p.cost_per_year) for v, p in xs if p.area == area]
            need = min(share * inputs.budget, sum(c for _, c in in_area))
            if share > 0 and in_area:
                add(
                    f"area_min_share_{area}_{y}",
                    in_area,
                    pulp.LpConstraintGE,
                    need,
                    soft=options.soft_targets,
                )
        by_cluster: dict[str, list[tuple[pulp.LpVariable, Project]]] = {}
        for v, p in xs:
            for c in p.clusters:
                by_cluster.setdefault(c, []).append((v, p))
        for c in sorted(by_cluster):
            pairs = by_cluster[c]
            if options.cluster_cap_share < 1.0:
                add(
                    f"cluster_cap_{c}_{y}",
                    [(v, p.cost_per_year / len(p.clusters)) for v, p in pairs],
                    pulp.LpConstraintLE,
                    options.cluster_cap_share * inputs.budget,
                )
            if options.cover_every_cluster and c in inputs.open_clusters and inputs.budget > 0:
                add(
                    f"cover_{c}_{y}",
                    [(v, 1.0) for v, _ in pairs],
                    pulp.LpConstraintGE,
                    options.min_cover_fraction,
                    soft=options.soft_targets,
                )
        if options.cofunding_min_ratio > 0:
            new_starts = [(v, p) for v, p in xs if p.id not in inputs.commitments]
            if new_starts:
                add(
                    f"cofunding_ratio_{y}",
                    [
                        (v, p.cofunding_per_year - options.cofunding_min_ratio * p.cost_per_year)
                        for v, p in new_starts
                    ],
                    pulp.LpConstraintGE,
                    0.0,
                )
        for pid, fraction in sorted(inputs.commitments.items()):
            add(
                f"commitment_{pid}_{y}", [(variables[(pid, y)], 1.0)], pulp.LpConstraintGE, fraction
            )
    if len(years) > 1:
        by_project: dict[str, list[pulp.LpVariable]] = {}
        for (pid, _y), var in variables.items():
            by_project.setdefault(pid, []).append(var)
        for pid in sorted(by_project):
            add(
                f"project_years_{pid}",
                [(v, 1.0) for v in by_project[pid]],
                pulp.LpConstraintLE,
                float(durations[pid]),
            )
    if elastic:
        problem.setObjective(_expr([(s, ELASTIC_PENALTY) for s, _ in built.slacks.values()]))
    else:
        # a cover shortfall costs more than any project can bring, so cover is met wherever possible
        built.impact = _expr(objective)
        penalty = 1.0 + sum(abs(c) for _, c in objective)
        problem.setObjective(_expr(objective + [(s, -penalty) for s in soft_slacks]))
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


def solver_for(name: str, time_limit: float | None = None) -> pulp.LpSolver:
    """HiGHS in-process (``highs``), or PuLP's bundled CBC (``cbc``)."""
    if name == "highs":
        if highs_available():
            quiet_highs()
            return pulp.HiGHS(msg=False, timeLimit=time_limit)
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
        row = built.rows.get(f"arena_budget_{y}")
        prices[y] = float("nan") if binary or row is None or row.pi is None else abs(float(row.pi))
    slack = {
        name: float(row.slack) if row.slack is not None else float("nan")
        for name, row in built.rows.items()
    }
    impact = built.impact if built.impact is not None else built.problem.objective
    return ProgramResult(status, float(pulp.value(impact) or 0.0), fractions, prices, slack)


def year_inputs(projects: Sequence[Project], request: AllocationRequest) -> YearInputs:
    """The program's data for one allocation request."""
    by_id = {p.id: p for p in projects}
    committed = live_commitments(by_id, request)
    new = eligible_new_projects(projects, request)
    return YearInputs(
        year=request.year,
        budget=request.budget,
        projects=tuple([by_id[pid] for pid in sorted(committed)] + new),
        commitments=committed,
        open_clusters=request.eligible_clusters,
        at_risk=request.at_risk,
    )


class LinearProgramAllocator:
    """The LP behind the allocator interface, one year at a time."""

    def __init__(self, projects: Sequence[Project], options: Allocator) -> None:
        self.projects = list(projects)
        self.options = options

    def add_projects(self, projects: Sequence[Project]) -> None:
        """Open-call proposals join the pool."""
        self.projects += projects

    def solve_year(
        self, request: AllocationRequest
    ) -> tuple[YearInputs, BuiltProgram, ProgramResult]:
        """Build and solve one year's program; raise ``InfeasibleAllocation`` naming the conflict."""
        inputs = year_inputs(self.projects, request)
        built = build_program([inputs], self.options)
        solver = solver_for(self.options.solver)
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
        return inputs, built, read_result(built, status, [request.year], self.options.binary)

    def allocate(self, request: AllocationRequest) -> Allocation:
        """Allocate one year's arena money by the LP."""
        if not eligible_new_projects(self.projects, request) and not request.commitments:
            return Allocation(request.year, {}, status="No eligible projects", objective=0.0)
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
