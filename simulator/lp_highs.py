"""The arena LP on the fast path: the program's arrays handed straight to HiGHS.

For the continuous LP with HiGHS (what an ensemble runs) each request's program is
the one :func:`simulator.formulation.formulate` makes, over just the projects that take
part, and is passed to ``highspy`` as arrays: no PuLP objects, and no rule of its own.
:meth:`HighsAllocator.allocate_all` builds the programs of many requests (a year of every
run in a batch) together, with :func:`simulator.formulation_batch.formulate_each`, which
gives ``formulate``'s programs bit for bit in about two thirds of the time; it then solves them
one by one. The columns are in the order PuLP would give them and the
objective is passed as PuLP passes it (minimise the negated impact), so HiGHS sees
the same model as on the PuLP path and returns the same vertex.

Why no per-year cache: the earlier variant (``lp_cached.py``, now removed) built each year's
model once over every project that might run that year and changed bounds, costs
and coefficients per request. That needed rules of its own to change those
numbers (a second copy of the formulation, finding rows by parsing constraint
names), and it cannot hold proposals that differ from run to run, so with open
calls each run needed an allocator (and superset models) of its own. When it went,
building the arrays per request took 1.1–1.5 ms a solve against 0.9–1.1 ms for the
cached variant (over the 1,512 distinct problems of a 200-run baseline ensemble
without open calls). Since ``formulate`` writes the matrix straight from flat term
lists, the arrays go into ``passModel`` directly and HiGHS runs on one thread, a
solve takes about 0.75–0.9 ms (best of alternating runs on a shared 2-core machine,
against 1.05–1.1 ms before), of which HiGHS's own ``run`` is about 0.4–0.45 ms,
``formulate`` about 0.2 ms and passing the model about 0.02 ms
(``benchmarks/bench_lp_replay.py``; those were one-by-one builds: a batch's build takes
about two thirds of ``formulate``'s time). HiGHS runs without presolve: on these small
programs that halves its own ``run`` (0.56 → 0.26 ms a distinct problem of a 100-run
baseline ensemble with open calls). Without presolve HiGHS may return another vertex of a
degenerate problem; the tie-break (:meth:`HighsAllocator.break_ties`,
:mod:`simulator.tie_break`) makes the answer the same either way. The other option set,
``threads = 1``, changes how fast HiGHS answers, never what. Nothing
carries over from one solve to the next (``passModel`` replaces the model and its basis),
so an answer does not depend on what was solved before (and so not on ``--jobs``).

An infeasible (or otherwise unsolved) request is handed to the PuLP allocator,
which names the conflict and the smallest relaxation.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import highspy
import numpy as np

from simulator.allocation import Allocation, AllocationRequest, problem_key
from simulator.formulation import Program
from simulator.formulation_batch import formulate_each
from simulator.lp import LinearProgramAllocator, nothing_to_allocate, quiet_highs, year_inputs
from simulator.scenario import Allocator, AnyProject
from simulator.tie_break import DUAL_TOLERANCE, optimal_face, same_impact

_COLWISE = int(highspy.MatrixFormat.kColwise)
_MINIMIZE = int(highspy.ObjSense.kMinimize)


def pass_program(highs: highspy.Highs, program: Program) -> None:
    """Hand ``program`` to ``highs`` as a continuous model, posed as PuLP poses it (minimise
    ``-cost``). This replaces the model and its basis, so nothing carries over from the
    model before. The arrays go in directly (no ``HighsLp`` is filled attribute by attribute)."""
    highs.passModel(
        program.num_col,
        program.num_row,
        len(program.value),
        _COLWISE,
        _MINIMIZE,
        0.0,
        -program.cost,
        program.col_lower,
        program.col_upper,
        program.row_lower,
        program.row_upper,
        program.start,
        program.index,
        program.value,
        np.zeros(program.num_col, dtype=np.int32),  # every column continuous
    )


class HighsAllocator:
    """The LP allocator for ensembles (continuous, HiGHS): the formulation's arrays, solved
    by highspy directly."""

    def __init__(self, projects: Sequence[AnyProject], options: Allocator) -> None:
        self.projects = list(projects)
        self.options = options
        self.fallback = LinearProgramAllocator(projects, options)
        quiet_highs()
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        # one thread: the models are tiny, and waiting on HiGHS's spare worker only costs time
        self.threads = 1
        self.highs.setOptionValue("threads", self.threads)
        # without presolve a solve of these tiny models takes half the time; it may return
        # another optimal vertex, and the tie-break decides between optima
        self.highs.setOptionValue("presolve", "off")
        self.second_solves = 0
        """Programs whose optimum may not be the only one (solved again over the optima)."""
        self.ties_left = 0
        """Of those, the ones the tie-break did not settle (its weighted sum tied too, or the
        second solve failed or lost impact): the second solve's or first solve's vertex stands."""

    @property
    def cluster_cap_share(self) -> float:
        """The cap of the program's ``cluster_cap`` rows."""
        return self.options.cluster_cap_share

    def problem_key(self, request: AllocationRequest) -> Hashable:
        """What the year's program depends on (see :func:`simulator.allocation.problem_key`)."""
        return problem_key(self.projects, request, weights=True)

    def run(self) -> None:
        """Solve the model passed, on one thread unless this process's HiGHS already runs on
        more: its thread scheduler is global and set up by the first solve, and then HiGHS
        refuses any other thread count (``run`` fails before it starts). The thread count
        changes how fast, never what, HiGHS answers."""
        if self.highs.run() == highspy.HighsStatus.kError and self.threads == 1:
            self.threads = 0  # the scheduler as it is
            self.highs.setOptionValue("threads", self.threads)
            self.highs.run()

    def allocate(self, request: AllocationRequest) -> Allocation:
        """Allocate one year's arena money by the LP."""
        return self.allocate_all([request])[0]

    def allocate_all(self, requests: Sequence[AllocationRequest]) -> list[Allocation]:
        """Allocate each request by the LP: their programs built together
        (:func:`simulator.formulation_batch.formulate_each`), then solved one by one."""
        inputs = [year_inputs(self.projects, request) for request in requests]
        answers = [
            nothing_to_allocate(one, request) for one, request in zip(inputs, requests, strict=True)
        ]
        to_solve = [i for i, answer in enumerate(answers) if answer is None]
        programs = formulate_each([inputs[i] for i in to_solve], self.options)
        for i, program in zip(to_solve, programs, strict=True):
            answers[i] = self.solve(program, requests[i])
        return answers  # type: ignore[return-value]  # each one answered or solved

    def solve(self, program: Program, request: AllocationRequest) -> Allocation:
        """The allocation of ``request`` from its program, by HiGHS and the tie-break (the
        PuLP allocator answers a request HiGHS does not solve to optimality)."""
        highs = self.highs
        pass_program(highs, program)
        self.run()
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return self.fallback.allocate(request)  # names the conflict, or reports the status
        solution = highs.getSolution()
        values = self.break_ties(program, solution)
        impact = program.impact.tolist()
        fractions = {}
        objective = 0.0
        for (pid, _y), column in sorted(program.columns.items()):
            value = values[column]
            objective += impact[column] * value
            if value > 1e-9:
                fractions[pid] = round(value, 12)
        shadow = abs(solution.row_dual[program.budget_rows[request.year]])
        return Allocation(request.year, fractions, "Optimal", objective, shadow)

    def break_ties(self, program: Program, solution: highspy.HighsSolution) -> list[float]:
        """The solved program's column values under the documented tie-break
        (:mod:`simulator.tie_break`): the first optimum when the duals prove it the only one,
        else the optimum the tie-break prefers, from a second solve over the set of optima
        (kept if it has the first solve's impact)."""
        values = solution.col_value
        col_dual, row_dual = np.asarray(solution.col_dual), np.asarray(solution.row_dual)
        if not self.dual_degenerate(col_dual, row_dual, program.num_row):
            return values
        self.second_solves += 1
        first = np.asarray(values)
        face = optimal_face(program, first, col_dual, row_dual)
        pass_program(self.highs, face)
        self.run()
        if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            self.ties_left += 1
            return values  # the set of optima is too thin for the solver: keep the first optimum
        second = self.highs.getSolution()
        if not same_impact(program, first, np.asarray(second.col_value)):
            self.ties_left += 1
            return values
        # a tie left: a column or row the face leaves free, nonbasic with a zero reduced cost
        movable = (face.col_lower < face.col_upper, face.row_lower < face.row_upper)
        col_dual, row_dual = np.asarray(second.col_dual), np.asarray(second.row_dual)
        self.ties_left += self.nonbasic_zero(col_dual, row_dual, movable)
        return second.col_value

    def dual_degenerate(self, col_dual: np.ndarray, row_dual: np.ndarray, num_row: int) -> bool:
        """Whether some nonbasic column or row of the model just solved has a zero reduced
        cost or dual (to :data:`simulator.tie_break.DUAL_TOLERANCE`): only then may another
        optimum exist.

        A basis holds ``num_row`` columns and rows, and HiGHS gives each of them a zero
        reduced cost or dual. So exactly ``num_row`` zeros are the basic ones (no nonbasic
        one is zero), and more than ``num_row`` zeros mean some nonbasic one is. With fewer
        (a basic value that is not quite zero), the basis itself is read
        (:meth:`nonbasic_zero`): a Python list of enums, ten times slower to read."""
        zeros = np.count_nonzero(np.abs(col_dual) <= DUAL_TOLERANCE)
        zeros += np.count_nonzero(np.abs(row_dual) <= DUAL_TOLERANCE)
        if zeros < num_row:
            return self.nonbasic_zero(col_dual, row_dual)
        return bool(zeros > num_row)

    def nonbasic_zero(
        self,
        col_dual: np.ndarray,
        row_dual: np.ndarray,
        movable: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> bool:
        """Whether a nonbasic column or row of the solved basis has a zero reduced cost or dual
        (only among the ``movable`` columns and rows, when given: a fixed one makes no tie)."""
        basis = self.highs.getBasis()
        cols, rows = movable or (np.ones(len(col_dual), bool), np.ones(len(row_dual), bool))
        return any(
            status != _BASIC and free and abs(dual) <= DUAL_TOLERANCE
            for duals, statuses, frees in (
                (col_dual, basis.col_status, cols),
                (row_dual, basis.row_status, rows),
            )
            for dual, status, free in zip(duals.tolist(), statuses, frees.tolist(), strict=True)
        )


_BASIC = highspy.HighsBasisStatus.kBasic
