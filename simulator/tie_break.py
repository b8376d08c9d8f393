"""Which optimal allocation is chosen when several are optimal: the documented tie-break.

The arena LP is often degenerate: two projects with the same impact per MSEK, say, can
share the money that is left in many ways, all with the same total impact. A solver
returns one of those optima, and which one depends on the solver and its options (HiGHS
with or without presolve, CBC). The rule here makes the answer the same whatever the
method:

    Of all allocations with the greatest impact, take the one that maximises
    ``sum (n - rank_p) * cost_p * x_p``, where ``rank_p`` is the project's place (0, 1,
    ...) when the program's project columns are sorted by project id (as text, then by
    year) and ``n`` is their number: money weighted by place, so tied money goes to the
    project first by id.

It is done in two steps. The first solve finds an optimum ``x`` with its reduced costs
``d`` and row duals ``y``. Every optimal allocation satisfies complementary slackness with
that ``y`` (a column with ``d_j != 0`` sits at the bound where ``x`` has it, a row with
``y_i != 0`` is tight), and every feasible point that does is optimal; so these conditions
describe exactly the set of optima (:func:`optimal_face`). When the optimum is provably
the only one (the dual is not degenerate: no nonbasic column or row has a zero reduced
cost or dual), ``x`` is the answer. Otherwise a second solve maximises the weighted sum
over the set of optima; its answer is kept if it has the first solve's impact (to
:data:`IMPACT_TOLERANCE`), as it must. So the answer no longer depends on which vertex
the first solve happened to return.

What the rule does not settle: a weighted sum that is itself tied along the set of
optima (money traded among three or more projects so that the sum does not change, say
+1, -2 and +1 MSEK at places 0, 1 and 2). Then the second solve's vertex stands.
``benchmarks/check_tie_break.py`` counts such programs; a 200-run baseline ensemble has
none.

The rule applies to the continuous LP (the ensemble's allocator and ``clusterfund
allocate``); ``--binary`` mode keeps the MIP solver's answer.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from simulator.formulation import Program

DUAL_TOLERANCE = 1e-9
"""A reduced cost or dual at most this far from 0 counts as 0 (a possible tie)."""
BOUND_TOLERANCE = 1e-7
"""A value at most this far from a bound counts as at the bound (CBC's answers come with
8 significant digits)."""
IMPACT_TOLERANCE = 1e-7
"""How far (relative) the second solve's impact may be from the first's."""


def tie_break_weights(program: Program) -> np.ndarray:
    """The second objective: ``(n - rank) * cost`` per project column (``cost`` is the
    column's coefficient in its year's budget row; ``rank`` its place by project id, then
    year), 0 for shortfall columns."""
    ranked = [program.columns[key] for key in sorted(program.columns)]
    counts = np.diff(program.start)
    column_of_entry = np.repeat(np.arange(program.num_col), counts)
    in_budget = np.isin(program.index, list(program.budget_rows.values()))
    money = np.zeros(program.num_col)
    money[column_of_entry[in_budget]] = program.value[in_budget]
    weights = np.zeros(program.num_col)
    weights[ranked] = (len(ranked) - np.arange(len(ranked))) * money[ranked]
    return weights


def row_activity(program: Program, x: np.ndarray) -> np.ndarray:
    """``A @ x`` for the program's column-wise matrix."""
    counts = np.diff(program.start)
    return np.bincount(
        program.index, weights=program.value * np.repeat(x, counts), minlength=program.num_row
    )


def _at(values: np.ndarray, bound: np.ndarray) -> np.ndarray:
    return np.isfinite(bound) & (np.abs(values - bound) <= BOUND_TOLERANCE)


def ties_possible(
    program: Program, x: np.ndarray, reduced_cost: np.ndarray, row_dual: np.ndarray
) -> bool:
    """Whether another optimum might exist, for a solver that gives no basis: some column or
    row at a bound has a zero reduced cost or dual. It also flags most unique optima (a
    basis often holds a variable at its bound, with a zero reduced cost); the second solve
    then returns that optimum again. (:class:`simulator.lp_highs.HighsAllocator` reads the
    duals against its basis instead.)"""
    activity = row_activity(program, x)
    column_at_bound = _at(x, program.col_lower) | _at(x, program.col_upper)
    row_at_bound = _at(activity, program.row_lower) | _at(activity, program.row_upper)
    return bool(
        np.any(column_at_bound & (np.abs(reduced_cost) <= DUAL_TOLERANCE))
        or np.any(row_at_bound & (np.abs(row_dual) <= DUAL_TOLERANCE))
    )


def optimal_face(
    program: Program, x: np.ndarray, reduced_cost: np.ndarray, row_dual: np.ndarray
) -> Program:
    """The program over the set of optima of the first solve, with the tie-break weights as
    its objective: each column with a nonzero reduced cost fixed at the bound where ``x``
    has it, each row with a nonzero dual fixed at the bound it holds. (A column or row
    with a nonzero dual that is not at a bound, which only rounding noise can give, is
    left free.)"""
    col_lower, col_upper = _held(x, program.col_lower, program.col_upper, reduced_cost)
    activity = row_activity(program, x)
    row_lower, row_upper = _held(activity, program.row_lower, program.row_upper, row_dual)
    return replace(
        program,
        cost=tie_break_weights(program),
        col_lower=col_lower,
        col_upper=col_upper,
        row_lower=row_lower,
        row_upper=row_upper,
    )


def _held(
    values: np.ndarray, lower: np.ndarray, upper: np.ndarray, dual: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """New bounds: each value with a nonzero dual held at the bound it is at (both bounds
    set to it); the others keep theirs."""
    priced = np.abs(dual) > DUAL_TOLERANCE
    at_upper = priced & _at(values, upper)
    at_lower = priced & ~at_upper & _at(values, lower)
    return np.where(at_upper, upper, lower), np.where(at_lower, lower, upper)


def same_impact(program: Program, first: np.ndarray, second: np.ndarray) -> bool:
    """Whether ``second`` has the impact of ``first`` (to :data:`IMPACT_TOLERANCE`, relative)."""
    a, b = float(program.impact @ first), float(program.impact @ second)
    return abs(a - b) <= IMPACT_TOLERANCE * max(1.0, abs(a))
