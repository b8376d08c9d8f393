"""``clusterfund optimise``: search the policy levers with the simulator in the loop.

pymoo does the search: a genetic algorithm for one objective, NSGA-II for two
or more, with the constraints handled by pymoo's own constraint mechanism
(feasibility first), not by a tuned penalty. pymoo asks for a generation of
candidates; each candidate is evaluated over the same replications (common
random numbers) on the backend, saved, and told back. Because pymoo is seeded
and every answer it gets is deterministic, a stopped search replays the saved
evaluations on ``--resume`` and continues exactly where it stopped; a larger
``--budget`` with ``--resume`` extends a finished search.

Before the search, the levers' two corners (all at their lows, all at their
highs) are evaluated; when neither meets the constraints the search stops at
once with the best value reached. After it, the chosen policies (the cheapest
feasible one; for a front, its ends and its knee) are re-run on fresh seeds,
because the best of many noisy candidates flatters itself.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from scenarios.config.policy import Policy
from scenarios.core.errors import UserError, problem_line
from scenarios.engine.executor import Backend, Executor
from scenarios.engine.points import (
    ChunkJob,
    InfeasiblePoint,
    PointModel,
    ScenarioModel,
    evaluate_chunk,
    make_chunks,
)
from scenarios.folders.checks import OPTIMISE_KIND
from scenarios.folders.manifest import config_sha256, job_source_fields, write_job_manifest
from scenarios.folders.publish import MANIFEST_JSON, StagedFolder
from scenarios.folders.run_folder import PLOTS_DIR
from scenarios.folders.work_folder import WorkFolder, work_path
from simulator.outcomes import STATS

EVALUATIONS_CSV = "evaluations.csv"
PARETO_CSV = "pareto.csv"
OUT_OF_SAMPLE_CSV = "out_of_sample.csv"
SEARCH_NPY = "search.npy"
"""Every evaluation's levers and statistics, exactly (``--resume`` extends a finished search)."""
KIND = OPTIMISE_KIND
OUT_OF_SAMPLE_SEED_OFFSET = 1_000_003
"""Fresh seeds for the out-of-sample check: ``seed + OUT_OF_SAMPLE_SEED_OFFSET``."""
CORNERS = 2


@dataclass(frozen=True)
class OptimiseRequest:
    """What the user asked ``clusterfund optimise`` for."""

    out: Path
    backend: Backend = field(default_factory=Backend)
    budget: int | None = None
    """Evaluations to spend [default: the file's ``budget``]."""
    resume: bool = False
    force: bool = False
    progress: bool = True
    make_plots: bool = True


@dataclass
class Evaluations:
    """Every candidate evaluated so far, in evaluation order."""

    levers: list[np.ndarray] = field(default_factory=list)
    stats: list[np.ndarray] = field(default_factory=list)
    """(outcomes, 5) per candidate: mean, P10, P50, P90, sd over replications."""
    generation: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.levers)


@dataclass(frozen=True)
class Chosen:
    """A policy picked from the evaluations, with why."""

    evaluation: int
    role: str
    """``cheapest feasible``, ``knee``, or ``best <objective>``."""


@dataclass(frozen=True)
class OptimiseResult:
    """What the search found."""

    folder: Path
    chosen: list[Chosen]
    out_of_sample: list[tuple]
    """Rows of ``out_of_sample.csv``."""


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
        for start, chunk_stats in self.executor.map_unordered(evaluate_chunk, job, chunks):
            rows = candidates[start - first : start - first + len(chunk_stats)]
            self.work.save_chunk(start, np.hstack([rows, chunk_stats.reshape(len(rows), -1)]))
            stats[start - first : start - first + len(chunk_stats)] = chunk_stats
            self.progress.update(len(chunk_stats))
        for row, candidate_stats in zip(candidates, stats, strict=True):
            self.evaluations.levers.append(np.array(row, dtype=float))
            self.evaluations.stats.append(candidate_stats)
            self.evaluations.generation.append(generation)
        return stats


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


def fingerprint(policy: Policy) -> str:
    """What the saved evaluations depend on: the file (but its budget), the base, the code."""
    spec = policy.spec.model_dump(mode="json")
    spec.pop("budget")
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode())
    digest.update(config_sha256(policy.document).encode())
    digest.update(metadata.version("clusterfund").encode())
    return digest.hexdigest()


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
        values = chosen_values(policy, evaluator.evaluate(population.get("X"), generation))
        f, g = objectives_and_constraints(policy, values)
        static = StaticProblem(problem, F=f, G=g) if g.shape[1] else StaticProblem(problem, F=f)
        algorithm.evaluator.eval(static, population)
        algorithm.tell(infills=population)


def non_dominated(f: np.ndarray) -> np.ndarray:
    """Indices of the rows of ``f`` no other row dominates (pymoo's sorting)."""
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    if len(f) == 0:
        return np.array([], dtype=int)
    return np.asarray(NonDominatedSorting().do(f, only_non_dominated_front=True), dtype=int)


def choose(policy: Policy, f: np.ndarray, feasible: np.ndarray) -> tuple[np.ndarray, list[Chosen]]:
    """(the feasible front's evaluation indices, the chosen policies).

    One objective: the best feasible candidate (the first, on ties). Several: the
    best candidate for each objective and the knee, the front's point closest to
    the ideal point once each objective is scaled to [0, 1] over the front.
    """
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


def execute_optimise(
    policy: Policy, request: OptimiseRequest, model: PointModel | None = None
) -> OptimiseResult:
    """Search, choose, check out of sample and write the results folder."""
    from scenarios.folders.optimise_folder import write_optimise_folder

    spec = policy.spec
    budget = max(CORNERS + 1, request.budget or spec.budget)
    model = model or ScenarioModel(policy.document, tuple(spec.outcomes.values()), str(policy.path))
    plan = {"policy": str(policy.path), "budget": budget}
    reads = [policy.path, *(policy.base.files if policy.base else [])]
    finished = finished_search(policy, request, budget)
    force = request.force or finished is not None  # extending replaces the finished folder
    with (
        Executor(request.backend) as executor,
        WorkFolder(request.out, fingerprint(policy), plan, request.resume, force) as work,
    ):
        if finished is not None and not work.resumed:
            work.save_chunk(0, finished)  # replayed: the search goes on where it ended
        bar = tqdm(
            total=budget,
            desc=spec.name,
            unit="candidate",
            disable=None if request.progress else True,
        )
        with bar:
            evaluator = CandidateEvaluator(policy, model, executor, work, bar)
            try:
                search(evaluator, budget)
            except UserError:
                work.discard()
                raise
        evaluations = evaluator.evaluations
        stats = np.stack(evaluations.stats)
        values = chosen_values(policy, stats)
        f, g = objectives_and_constraints(policy, values)
        feasible = np.all(g <= 0, axis=1) if g.shape[1] else np.ones(len(f), dtype=bool)
        if not feasible.any():
            work.discard()
            raise UserError(infeasibility_problems(policy, values, f"in {len(f)} evaluations"))
        front, chosen = choose(policy, f, feasible)
        try:
            out_of_sample = check_out_of_sample(
                policy, model, executor, evaluations, chosen, values
            )
        except InfeasiblePoint:  # on fresh seeds: the search cannot be finished
            work.discard()
            raise
        with work.kept_if_refused(), StagedFolder(request.out, force, reads) as staging:
            folder = staging.path
            write_optimise_folder(
                folder, policy, request, evaluations, values, feasible, front, chosen, out_of_sample
            )
            np.save(folder / SEARCH_NPY, search_rows(evaluations))
            manifest = write_optimise_manifest(folder, policy, request, len(evaluations), budget)
            if request.make_plots:
                from scenarios.present.optimise_charts import draw_optimise_plots

                draw_optimise_plots(folder, folder / PLOTS_DIR, manifest)
        work.remove()
    return OptimiseResult(request.out, chosen, out_of_sample)


def search_rows(evaluations: Evaluations) -> np.ndarray:
    """Every evaluation as the work folder saves it: its levers, then its statistics."""
    return np.array(
        [
            np.concatenate([levers, stats.reshape(-1)])
            for levers, stats in zip(evaluations.levers, evaluations.stats, strict=True)
        ]
    )


def finished_search(policy: Policy, request: OptimiseRequest, budget: int) -> np.ndarray | None:
    """With ``--resume`` on a finished search of the same policy (and no stopped one): its
    evaluations (``search.npy``), to be extended to ``budget``; otherwise ``None``."""
    out = request.out
    if not (request.resume and out.is_dir() and not work_path(out).exists()):
        return None
    try:
        manifest = json.loads((out / MANIFEST_JSON).read_text(encoding="utf-8"))
        rows = np.load(out / SEARCH_NPY, allow_pickle=False)
    except (OSError, ValueError):
        return None  # not a finished search of this tool: the usual refusal follows
    if not isinstance(manifest, dict) or manifest.get("fingerprint") != fingerprint(policy):
        raise UserError(
            f"{out}: holds a search of another policy (the file, its base scenario or the "
            "code changed); use --force to start over"
        )
    if budget <= len(rows):
        raise UserError(
            f"{out}: the search there is finished with {len(rows)} evaluations; give a larger "
            f"--budget to extend it"
        )
    return rows


def out_of_sample_seed(policy: Policy) -> int:
    """The seed of the out-of-sample runs (never one the search used)."""
    return policy.spec.seed + OUT_OF_SAMPLE_SEED_OFFSET


def check_out_of_sample(
    policy: Policy,
    model: PointModel,
    executor: Executor,
    evaluations: Evaluations,
    chosen: list[Chosen],
    values: np.ndarray,
) -> list[tuple]:
    """Re-run each chosen policy on fresh seeds; rows (policy, outcome, bound, in, out, met in, met out)."""
    spec = policy.spec
    replications = spec.out_of_sample_replications or spec.replications
    job = ChunkJob(
        model, replications, out_of_sample_seed(policy), "out-of-sample run of policy", 1
    )
    overrides = [policy.overrides(evaluations.levers[c.evaluation]) for c in chosen]
    chunks = make_chunks(overrides, range(len(overrides)), 1)
    fresh = np.full((len(chosen), len(policy.outcome_names), len(STATS)), np.nan)
    for first, chunk_stats in executor.map_unordered(evaluate_chunk, job, chunks):
        fresh[first : first + len(chunk_stats)] = chunk_stats
    fresh_values = chosen_values(policy, fresh)
    names = policy.outcome_names
    rows = []
    for k, (pick, out_values) in enumerate(zip(chosen, fresh_values, strict=True), start=1):
        for name in names:
            bound = spec.constraints.get(name)
            i = names.index(name)
            inside, outside = float(values[pick.evaluation, i]), float(out_values[i])
            rows.append(
                (
                    f"policy_{k}",
                    name,
                    bound.text() if bound else "",
                    inside,
                    outside,
                    "" if bound is None else int(bound.violation(inside) <= 0),
                    "" if bound is None else int(bound.violation(outside) <= 0),
                )
            )
    return rows


def write_optimise_manifest(
    folder: Path, policy: Policy, request: OptimiseRequest, evaluations: int, budget: int
) -> dict[str, Any]:
    """manifest.json of an optimise folder."""
    spec = policy.spec
    fields = {
        **job_source_fields(
            "policy",
            spec,
            policy.path,
            policy.base.files if policy.base else [],
            policy.document,
        ),
        "evaluations": evaluations,
        "budget": budget,
        "replications": spec.replications,
        "seed": spec.seed,
        "out_of_sample_seed": out_of_sample_seed(policy),
        "horizon": policy.document.get("programme", {}).get("horizon"),
        "levers": {
            lever.name: {"keys": list(lever.keys), "range": list(lever.spec.bounds)}
            for lever in policy.levers
        },
        "algorithm": "GA" if len(spec.objective.names) == 1 else "NSGA-II",
        "fingerprint": fingerprint(policy),
        "backend": request.backend.describe(),
        "base_config": policy.document,
    }
    return write_job_manifest(folder, KIND, fields, ("pymoo", "dask", "distributed"))
