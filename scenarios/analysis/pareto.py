"""Choosing among a search's candidates: the objectives and constraints as pymoo minimises
them, the feasible Pareto front, and the policies picked from it (the cheapest feasible one;
for a front, the best for each objective and the knee)."""

from __future__ import annotations

import numpy as np

from scenarios.config.policy import Policy
from scenarios.core.errors import problem_line
from scenarios.folders.optimise_folder import Chosen
from simulator.outcomes import STATS


def chosen_values(policy: Policy, stats: np.ndarray) -> np.ndarray:
    """(candidates, outcomes): each outcome's chosen statistic."""
    columns = [STATS.index(policy.spec.outcomes[name].stat) for name in policy.outcome_names]
    return stats[:, np.arange(len(columns)), columns]


def objectives_and_constraints(policy: Policy, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(F, G) as pymoo minimises them: F signed objectives, G ≤ 0 where a constraint holds."""
    names = policy.outcome_names
    objective = policy.spec.objective
    f = np.column_stack([objective.sign(n) * values[:, names.index(n)] for n in objective.names])
    g = (
        np.column_stack(
            [
                bound.violation(values[:, names.index(n)])
                for n, bound in policy.spec.constraints.items()
            ]
        )
        if policy.spec.constraints
        else np.zeros((len(values), 0))
    )
    return f, g


def infeasibility_problems(policy: Policy, values: np.ndarray, what: str) -> list[str]:
    """One line per constraint no evaluated candidate meets, with the best value reached."""
    names = policy.outcome_names
    lines = []
    for name, bound in policy.spec.constraints.items():
        column = values[:, names.index(name)]
        violations = bound.violation(column)
        if np.all(violations > 0):
            best = column[int(np.argmin(violations))]
            lines.append(
                problem_line(
                    str(policy.path),
                    f"constraints.{name}",
                    f"no policy meets it {what}: the best reachable value is {best:.4g} "
                    f"(it must be {bound.text()}); widen the levers' ranges or relax the bound",
                )
            )
    if not lines:
        lines.append(
            problem_line(
                str(policy.path),
                "constraints",
                f"each constraint is met by some candidate but never all at once {what}",
            )
        )
    return lines


def non_dominated(f: np.ndarray) -> np.ndarray:
    """Indices of the rows of ``f`` no other row dominates (pymoo's sorting)."""
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    if len(f) == 0:
        return np.array([], dtype=int)
    return np.asarray(NonDominatedSorting().do(f, only_non_dominated_front=True), dtype=int)


def first_of_each(levers: np.ndarray) -> np.ndarray:
    """Whether each candidate (a row of ``levers``) is the first evaluation of its lever
    values (candidates rounded to a grid can be proposed again)."""
    _, first = np.unique(np.asarray(levers, float), axis=0, return_index=True)
    mask = np.zeros(len(levers), dtype=bool)
    mask[first] = True
    return mask


def choose(
    policy: Policy, f: np.ndarray, feasible: np.ndarray, levers: np.ndarray | None = None
) -> tuple[np.ndarray, list[Chosen]]:
    """(the feasible front's evaluation indices, the chosen policies).

    One objective: the best feasible candidate (the first, on ties). Several: the
    best candidate for each objective and the knee, the front's point closest to
    the ideal point once each objective is scaled to [0, 1] over the front. With
    ``levers`` (evaluations × levers), a candidate evaluated again counts once (its first
    evaluation).
    """
    if levers is not None and len(levers):
        feasible = feasible & first_of_each(levers)
    candidates = np.flatnonzero(feasible)
    front = np.sort(candidates[non_dominated(f[candidates])])
    if f.shape[1] == 1:
        best = front[np.lexsort((front, f[front, 0]))][0]
        return front, [Chosen(int(best), "cheapest feasible")]
    chosen: list[Chosen] = []
    names = policy.spec.objective.names
    for j, name in enumerate(names):
        best = front[np.lexsort((front, f[front, j]))][0]
        chosen.append(Chosen(int(best), f"best {name}"))
    span = f[front].max(axis=0) - f[front].min(axis=0)
    scaled = (f[front] - f[front].min(axis=0)) / np.where(span > 0, span, 1.0)
    knee = front[int(np.argmin(np.linalg.norm(scaled, axis=1)))]
    if all(c.evaluation != knee for c in chosen):
        chosen.append(Chosen(int(knee), "knee"))
    return front, chosen
