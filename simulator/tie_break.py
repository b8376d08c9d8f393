"""Which optimal allocation is chosen when several are optimal: the documented tie-break.

The arena LP is often degenerate: two projects with the same impact per MSEK, say, can
share the money that is left in many ways, all with the same total impact. A solver
returns one of those optima, and which one depends on the solver and its options (HiGHS
with or without presolve, CBC). The rule here makes the answer the same whatever the
method:

    Of all allocations with the greatest impact, take the one that gives the most money
    to the projects that come first by id: it maximises ``sum (n - rank_p) * cost_p * x_p``,
    where ``rank_p`` is the project's place (0, 1, ...) among the program's project
    columns, which are ordered by id, and ``n`` is their number.

It is done in two steps. The first solve finds an optimum ``x`` with its reduced costs
``d`` and row duals ``y``. Every optimal allocation satisfies complementary slackness with
that ``y`` (a column with ``d_j != 0`` sits at the bound where ``x`` has it, a row with
``y_i != 0`` is tight), and every feasible point that does is optimal; so these conditions
describe exactly the set of optima (:func:`optimal_face`). When no tie is possible (every
column at a bound and every row at a bound has a nonzero reduced cost or dual: the dual
is not degenerate, so the optimum is unique), ``x`` is the answer. Otherwise a second
solve maximises the tie-break weights over the optimal face. The impact of the answer is
that of the first solve (to the solvers' tolerances), and the answer no longer depends on
which vertex the first solve happened to return.

The rule applies to the continuous LP (the ensemble's allocator and ``clusterfund
allocate``); ``--binary`` mode keeps the MIP solver's answer.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from simulator.formulation import Program

TIE_TOLERANCE = 1e-9
"""A reduced cost or dual at most this far from 0 counts as 0 (a possible tie); a value at
most this far from a bound counts as at the bound."""


def tie_break_weights(program: Program) -> np.ndarray:
    """The second objective: ``(n - rank) * cost`` per project column (``cost`` is the
    column's coefficient in its year's budget row), 0 for shortfall columns."""
    ranked = sorted(program.columns.values())  # columns are ordered by name: by project id
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
    return np.isfinite(bound) & (np.abs(values - bound) <= TIE_TOLERANCE)


def ties_possible(
    program: Program,
    x: np.ndarray,
    reduced_cost: np.ndarray,
    row_dual: np.ndarray,
    activity: np.ndarray | None = None,
) -> bool:
    """Whether another optimum might exist: some column at a bound, or some row at a bound,
    has a zero reduced cost or dual. (It also flags a unique optimum whose basis holds a
    variable at a bound; the second solve then returns that optimum again.)"""
    activity = row_activity(program, x) if activity is None else activity
    column_at_bound = _at(x, program.col_lower) | _at(x, program.col_upper)
    row_at_bound = _at(activity, program.row_lower) | _at(activity, program.row_upper)
    return bool(
        np.any(column_at_bound & (np.abs(reduced_cost) <= TIE_TOLERANCE))
        or np.any(row_at_bound & (np.abs(row_dual) <= TIE_TOLERANCE))
    )


def optimal_face(
    program: Program, x: np.ndarray, reduced_cost: np.ndarray, row_dual: np.ndarray
) -> Program:
    """The program over the set of optima of the first solve, with the tie-break weights as
    its objective: each column with a nonzero reduced cost fixed where ``x`` has it (at its
    bound), each row with a nonzero dual fixed at the bound it holds."""
    activity = row_activity(program, x)
    col_lower, col_upper = program.col_lower.copy(), program.col_upper.copy()
    fixed = np.abs(reduced_cost) > TIE_TOLERANCE
    at_upper = fixed & _at(x, program.col_upper)
    at_lower = fixed & ~at_upper & _at(x, program.col_lower)
    col_lower[at_upper] = program.col_upper[at_upper]
    col_upper[at_lower] = program.col_lower[at_lower]
    row_lower, row_upper = program.row_lower.copy(), program.row_upper.copy()
    tight = np.abs(row_dual) > TIE_TOLERANCE
    upper_held = tight & (
        np.abs(activity - program.row_upper) <= np.abs(activity - program.row_lower)
    )
    lower_held = tight & ~upper_held
    # an infinite bound is never the one held (it is infinitely far)
    row_lower[upper_held] = program.row_upper[upper_held]
    row_upper[lower_held] = program.row_lower[lower_held]
    return replace(
        program,
        cost=tie_break_weights(program),
        col_lower=col_lower,
        col_upper=col_upper,
        row_lower=row_lower,
        row_upper=row_upper,
    )
