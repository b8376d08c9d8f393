"""The arena LP on the fast path: the program's arrays handed straight to HiGHS.

For the continuous LP with HiGHS (what an ensemble runs) each request's program is
built by :func:`simulator.formulation.formulate`, the one formulation, over just the
projects that take part, and passed to ``highspy`` as arrays: no PuLP objects, and
no rule of its own. The columns are in the order PuLP would give them and the
objective is passed as PuLP passes it (minimise the negated impact), so HiGHS sees
the same model as on the PuLP path and returns the same vertex.

Why no per-year cache: the earlier variant (``lp_cached.py``, now removed) built each year's
model once over every project that might run that year and changed bounds, costs
and coefficients per request. That needed rules of its own to change those
numbers (a second copy of the formulation, finding rows by parsing constraint
names), and it cannot hold proposals that differ from run to run, so with open
calls each run needed an allocator (and superset models) of its own. Building the
arrays per request costs little: over the 1,512 distinct problems of a 200-run
baseline ensemble without open calls, about 1.1–1.5 ms a solve against 0.9–1.1
ms for the cached variant (alternating runs on a shared 2-core machine; about
0.8 ms of it is ``formulate``), and ``clusterfund run configs/baseline.toml
--runs 200 --jobs 1`` (open calls, now memoised across runs) takes 16–19 s
against 21 s. So the cache went. Nothing carries over from one solve to the next
(``passModel`` replaces the model and its basis), so an answer does not depend on
what was solved before (and so not on ``--jobs``).

An infeasible (or otherwise unsolved) request is handed to the PuLP allocator,
which names the conflict and the smallest relaxation.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import highspy
import numpy as np

from simulator.allocation import Allocation, AllocationRequest, problem_key
from simulator.formulation import Program, formulate
from simulator.lp import LinearProgramAllocator, nothing_to_allocate, quiet_highs, year_inputs
from simulator.scenario import Allocator, Project


def highs_lp(program: Program) -> highspy.HighsLp:
    """``program`` as a HiGHS model (continuous), posed as PuLP poses it: minimise ``-cost``."""
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = program.num_col, program.num_row
    lp.col_cost_ = -program.cost
    lp.col_lower_, lp.col_upper_ = program.col_lower, program.col_upper
    lp.row_lower_, lp.row_upper_ = program.row_lower, program.row_upper
    lp.sense_ = highspy.ObjSense.kMinimize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = program.start
    lp.a_matrix_.index_ = program.index
    lp.a_matrix_.value_ = program.value
    return lp


class HighsAllocator:
    """The LP allocator for ensembles (continuous, HiGHS): the formulation's arrays, solved
    by highspy directly."""

    def __init__(self, projects: Sequence[Project], options: Allocator) -> None:
        self.projects = list(projects)
        self.options = options
        self.fallback = LinearProgramAllocator(projects, options)
        quiet_highs()
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)

    def problem_key(self, request: AllocationRequest) -> Hashable:
        """What the year's program depends on (see :func:`simulator.allocation.problem_key`)."""
        return problem_key(self.projects, request, weights=True)

    def allocate(self, request: AllocationRequest) -> Allocation:
        """Allocate one year's arena money by the LP."""
        nothing = nothing_to_allocate(self.projects, request)
        if nothing is not None:
            return nothing
        inputs = year_inputs(self.projects, request)
        program = formulate([inputs], self.options, binary=False)
        highs = self.highs
        highs.passModel(highs_lp(program))  # replaces the model and its basis: nothing carries over
        highs.run()
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return self.fallback.allocate(request)  # names the conflict, or reports the status
        solution = highs.getSolution()
        values = np.asarray(solution.col_value)
        fractions = {}
        objective = 0.0
        for (pid, _y), column in sorted(program.columns.items()):
            value = float(values[column])
            objective += float(program.impact[column]) * value
            if value > 1e-9:
                fractions[pid] = round(value, 12)
        shadow = abs(float(np.asarray(solution.row_dual)[program.budget_rows[request.year]]))
        return Allocation(request.year, fractions, "Optimal", objective, shadow)
