"""The optimiser's loop: pymoo asks for a generation of candidates, each is evaluated over
the same replications (common random numbers) on the executor and saved, and the answers are
told back.

pymoo does the search: a genetic algorithm for one objective, NSGA-II for two or more, with
the constraints handled by pymoo's own constraint mechanism (feasibility first), not by a
tuned penalty. Because pymoo is seeded and every answer it gets is deterministic, a stopped
search replays the saved evaluations and continues exactly where it stopped. Before the
search the levers' two corners (all at their lows, all at their highs) are evaluated; when
neither meets the constraints the search stops at once with the best value reached. Every
candidate is rounded to ``LEVER_RESOLUTION`` and, under a ``[year_paths]`` rule, mended to keep
it before it is evaluated, and pymoo is told the values that ran.
"""

from __future__ import annotations

import itertools

import numpy as np
from tqdm import tqdm

from scenarios.analysis.pareto import (
    chosen_values,
    infeasibility_problems,
    objectives_and_constraints,
)
from scenarios.config.policy import LEVER_RESOLUTION, Policy, YearPaths
from scenarios.core.errors import UserError
from scenarios.engine.executor import Executor
from scenarios.engine.points import ChunkJob, PointModel, evaluate_chunk, make_chunks
from scenarios.folders.optimise_folder import Evaluations
from scenarios.folders.work_folder import WorkFolder
from simulator.outcomes import STATS

CORNERS = 2
"""Evaluations before the search: every lever at its low end, then at its high end."""


def on_grid(candidates: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """``candidates`` (candidates × levers) rounded to ``LEVER_RESOLUTION`` and kept within
    each lever's ``[low, high]`` (a bound off the grid is kept as it is)."""
    steps = np.round(np.asarray(candidates, float) / LEVER_RESOLUTION)
    rounded = np.round(steps * LEVER_RESOLUTION, 10) + 0.0
    return np.clip(rounded, low, high)


def keep_year_paths(
    candidates: np.ndarray, paths: list[list[int]], rule: YearPaths | None
) -> np.ndarray:
    """``candidates`` (candidates × levers, on the grid) with each year path mended in year
    order to keep ``rule``: a year is moved to the nearest value within ``max_step`` of the
    year before and on the rule's side of it. The first year is never moved; a path that
    keeps the rule is left as it is. The levers of a path share one range, so a mended year
    stays within it."""
    mended = np.array(candidates, dtype=float)
    if rule is None:
        return mended
    step = np.inf if rule.max_step is None else rule.max_step
    for path in paths:
        for before, year in itertools.pairwise(path):
            previous = mended[:, before]
            low, high = previous - step, previous + step
            if rule.direction == "non_increasing":
                high = previous
            elif rule.direction == "non_decreasing":
                low = previous
            mended[:, year] = np.clip(mended[:, year], low, high)
    return on_grid(mended, -np.inf, np.inf)


class CandidateEvaluator:
    """Evaluates batches of candidates on a backend, reusing what the work folder saved."""

    def __init__(
        self,
        policy: Policy,
        model: PointModel,
        executor: Executor,
        work: WorkFolder,
        progress: tqdm,
    ) -> None:
        self.policy = policy
        self.model = model
        self.executor = executor
        self.work = work
        self.progress = progress
        self.outcomes = len(policy.outcome_names)
        width = len(policy.levers) + self.outcomes * len(STATS)
        self.saved, self.saved_done = work.load_chunks(None, (width,))
        self.evaluations = Evaluations()

    def evaluate(self, candidates: np.ndarray, generation: int) -> np.ndarray:
        """(candidates, outcomes, 4) statistics; saves each finished chunk."""
        first = len(self.evaluations)
        k = len(self.policy.levers)
        stats = np.full((len(candidates), self.outcomes, len(STATS)), np.nan)
        todo = []
        for i, row in enumerate(candidates):
            index = first + i
            if index < len(self.saved_done) and self.saved_done[index]:
                if not np.array_equal(self.saved[index, :k], row):
                    raise UserError(
                        f"{self.work.path}: the saved evaluation {index} is of another candidate; "
                        f"use --force to start over"
                    )
                stats[i] = self.saved[index, k:].reshape(self.outcomes, len(STATS))
                self.progress.update(1)
            else:
                todo.append(index)
        overrides = {first + i: self.policy.overrides(r) for i, r in enumerate(candidates)}
        chunks = make_chunks(
            [overrides.get(i, {}) for i in range(first + len(candidates))], todo, 1
        )
        spec = self.policy.spec
        job = ChunkJob(self.model, spec.replications, spec.seed, what="evaluation")
        for start, chunk_stats in self.executor.map(evaluate_chunk, job, chunks):
            rows = candidates[start - first : start - first + len(chunk_stats)]
            self.work.save_chunk(start, np.hstack([rows, chunk_stats.reshape(len(rows), -1)]))
            stats[start - first : start - first + len(chunk_stats)] = chunk_stats
            self.progress.update(len(chunk_stats))
        for row, candidate_stats in zip(candidates, stats, strict=True):
            self.evaluations.levers.append(np.array(row, dtype=float))
            self.evaluations.stats.append(candidate_stats)
            self.evaluations.generation.append(generation)
        return stats


def _algorithm(policy: Policy):  # type: ignore[no-untyped-def]
    population = policy.spec.population
    if len(policy.spec.objective.names) == 1:
        from pymoo.algorithms.soo.nonconvex.ga import GA

        return GA(pop_size=population, eliminate_duplicates=True)
    from pymoo.algorithms.moo.nsga2 import NSGA2

    return NSGA2(pop_size=population, eliminate_duplicates=True)


def _problem(policy: Policy):  # type: ignore[no-untyped-def]
    from pymoo.core.problem import Problem

    bounds = np.array([lever.spec.bounds for lever in policy.levers])
    return Problem(
        n_var=len(policy.levers),
        n_obj=len(policy.spec.objective.names),
        n_ieq_constr=len(policy.spec.constraints),
        xl=bounds[:, 0],
        xu=bounds[:, 1],
    )


def search(evaluator: CandidateEvaluator, budget: int) -> None:
    """Corners first, then pymoo's generations until ``budget`` evaluations are spent."""
    from pymoo.problems.static import StaticProblem

    policy = evaluator.policy
    corners = np.array([[lever.spec.bounds[end] for lever in policy.levers] for end in (0, 1)])
    corner_values = chosen_values(policy, evaluator.evaluate(corners, 0))
    _, g = objectives_and_constraints(policy, corner_values)
    if g.shape[1] and not np.any(np.all(g <= 0, axis=1)):
        raise UserError(infeasibility_problems(policy, corner_values, "even at the levers' bounds"))
    problem = _problem(policy)
    algorithm = _algorithm(policy)
    algorithm.setup(problem, seed=policy.spec.seed, verbose=False)
    generation = 0
    while len(evaluator.evaluations) < budget and algorithm.has_next():
        generation += 1
        population = algorithm.ask()
        room = budget - len(evaluator.evaluations)
        if len(population) > room:
            population = population[:room]
        rounded = on_grid(population.get("X"), problem.xl, problem.xu)
        population.set("X", keep_year_paths(rounded, policy.year_paths, policy.spec.year_paths))
        values = chosen_values(policy, evaluator.evaluate(population.get("X"), generation))
        f, g = objectives_and_constraints(policy, values)
        static = StaticProblem(problem, F=f, G=g) if g.shape[1] else StaticProblem(problem, F=f)
        algorithm.evaluator.eval(static, population)
        algorithm.tell(infills=population)
