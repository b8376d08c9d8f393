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

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from scenarios.analysis.pareto import (
    choose,
    chosen_values,
    infeasibility_problems,
    objectives_and_constraints,
)
from scenarios.config.job_size import document_estimate, search_problem
from scenarios.config.policy import Policy, load_policy
from scenarios.core.errors import UserError
from scenarios.engine.executor import Backend, Executor
from scenarios.engine.points import (
    ChunkJob,
    PointFailed,
    PointModel,
    ScenarioModel,
    evaluate_chunk,
    make_chunks,
)
from scenarios.engine.search import CORNERS, CandidateEvaluator, search
from scenarios.folders.manifest import fingerprint
from scenarios.folders.optimise_folder import (
    Chosen,
    Evaluations,
    OptimiseFolder,
    read_search,
    write_optimise_folder,
    write_optimise_manifest,
)
from scenarios.folders.publish import MANIFEST_JSON, StagedFolder, default_folder
from scenarios.folders.run_folder import PLOTS_DIR
from scenarios.folders.work_folder import WorkFolder, work_path
from scenarios.present.optimise_charts import draw_optimise_plots
from scenarios.present.scenario_text import sets_note
from scenarios.studies.input_kinds import POLICY, check_input_kind
from simulator.outcomes import STATS

OUT_OF_SAMPLE_SEED_OFFSET = 1_000_003
"""Fresh seeds for the out-of-sample check: ``seed + OUT_OF_SAMPLE_SEED_OFFSET``."""


@dataclass(frozen=True)
class OptimiseRequest:
    """What the user asked ``clusterfund optimise`` for."""

    out: Path | None = None
    """The results folder [default: ``results/<policy name>``]."""
    backend: Backend = field(default_factory=Backend)
    budget: int | None = None
    """Evaluations to spend [default: the file's ``budget``]."""
    resume: bool = False
    force: bool = False
    progress: bool = True
    make_plots: bool = True
    lang: str = "en"
    """The language of the charts (``en`` or ``sv``)."""


@dataclass(frozen=True)
class OptimiseResult:
    """What the search found."""

    folder: Path
    chosen: list[Chosen]
    out_of_sample: list[tuple]
    """Rows of ``out_of_sample.csv``."""


def optimise(
    path: Path, request: OptimiseRequest, notify: Callable[[str], None] = print
) -> OptimiseResult:
    """Load the policy file at ``path`` and search it (see :func:`execute_optimise`);
    ``notify`` gets the time estimate before the search starts."""
    check_input_kind(path, POLICY, "optimise")
    policy = load_policy(path)
    evaluations = request.budget or policy.spec.budget
    if request.budget is not None and (
        too_many := search_problem(request.budget, policy.spec.replications)
    ):
        raise UserError(f"--budget: {too_many}")
    if not request.resume:
        estimate = document_estimate(
            evaluations * policy.spec.replications, policy.document, request.backend.jobs
        )
        if estimate is not None:
            notify(estimate)
    note = sets_note(policy.document, policy.spec.replications, "replications")
    if note is not None:
        notify(note)
    return execute_optimise(policy, request)


def execute_optimise(
    policy: Policy, request: OptimiseRequest, model: PointModel | None = None
) -> OptimiseResult:
    """Search, choose, check out of sample and write the results folder."""
    spec = policy.spec
    out = request.out or default_folder(spec.name)
    budget = max(CORNERS + 1, request.budget or spec.budget)
    model = model or ScenarioModel(policy.document, tuple(spec.outcomes.values()), str(policy.path))
    plan = {"policy": str(policy.path), "budget": budget}
    reads = [policy.path, *(policy.base.files if policy.base else [])]
    finished = finished_search(policy, out, request.resume, budget)
    force = request.force or finished is not None  # extending replaces the finished folder
    with (
        Executor(request.backend) as executor,
        WorkFolder(out, policy_fingerprint(policy), plan, request.resume, force, reads) as work,
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
        front, chosen = choose(policy, f, feasible, np.stack(evaluations.levers))
        try:
            out_of_sample = check_out_of_sample(
                policy, model, executor, evaluations, chosen, values
            )
        except PointFailed:  # on fresh seeds: the search cannot be finished
            work.discard()
            raise
        with work.kept_if_refused(), StagedFolder(out, force, reads) as staging:
            folder = staging.path
            write_optimise_folder(
                folder,
                out,
                policy,
                evaluations,
                values,
                feasible,
                front,
                chosen,
                out_of_sample,
            )
            manifest = write_optimise_manifest(
                folder,
                policy,
                len(evaluations),
                budget,
                fingerprint=policy_fingerprint(policy),
                out_of_sample_seed=out_of_sample_seed(policy),
                backend=executor.backend.describe(),
            )
            if request.make_plots:
                draw_optimise_plots(
                    OptimiseFolder(folder, manifest), folder / PLOTS_DIR, request.lang
                )
        work.remove()
    return OptimiseResult(out, chosen, out_of_sample)


def finished_search(policy: Policy, out: Path, resume: bool, budget: int) -> np.ndarray | None:
    """With ``--resume`` on a finished search of the same policy in ``out`` (and no stopped
    one): its evaluations (``search.npy``), to be extended to ``budget``; otherwise ``None``."""
    if not (resume and out.is_dir() and not work_path(out).exists()):
        return None
    try:
        manifest = json.loads((out / MANIFEST_JSON).read_text(encoding="utf-8"))
        rows = read_search(out)
    except (OSError, ValueError):
        return None  # not a finished search of this tool: the usual refusal follows
    if not isinstance(manifest, dict) or manifest.get("fingerprint") != policy_fingerprint(policy):
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


def policy_fingerprint(policy: Policy) -> str:
    """What the saved evaluations depend on: the file (but its budget, which ``--resume``
    may raise), the base document, the code."""
    spec = policy.spec.model_dump(mode="json")
    spec.pop("budget")
    return fingerprint(spec, policy.document)


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
    """Re-run each chosen policy, and the base scenario as planned (no lever moved), on the
    same fresh seeds; rows (policy, outcome, bound, in sample, out of sample, met in, met
    out, the plan's value, out of sample minus the plan's). A plan the model cannot run
    (its own arena allocation cannot be met) leaves the last two empty."""
    spec = policy.spec
    replications = spec.out_of_sample_replications or spec.replications
    seed = out_of_sample_seed(policy)
    outcomes = len(policy.outcome_names)
    job = ChunkJob(model, replications, seed, "out-of-sample run of policy", 1)
    overrides = [policy.overrides(evaluations.levers[c.evaluation]) for c in chosen]
    fresh_values = chosen_values(policy, points_stats(executor, job, overrides, outcomes))
    plan_job = ChunkJob(model, replications, seed, "the base scenario's plan", 0)
    try:
        plan = chosen_values(policy, points_stats(executor, plan_job, [{}], outcomes))[0]
        plan_values: list[float | str] = [float(value) for value in plan]
    except PointFailed:
        plan_values = [""] * outcomes
    names = policy.outcome_names
    rows = []
    for k, (pick, out_values) in enumerate(zip(chosen, fresh_values, strict=True), start=1):
        for i, name in enumerate(names):
            bound = spec.constraints.get(name)
            inside, outside = float(values[pick.evaluation, i]), float(out_values[i])
            planned = plan_values[i]
            rows.append(
                (
                    f"policy_{k}",
                    name,
                    bound.text() if bound else "",
                    inside,
                    outside,
                    "" if bound is None else int(bound.violation(inside) <= 0),
                    "" if bound is None else int(bound.violation(outside) <= 0),
                    planned,
                    "" if planned == "" else outside - float(planned),
                )
            )
    return rows


def points_stats(
    executor: Executor, job: ChunkJob, overrides: list[dict[str, Any]], outcomes: int
) -> np.ndarray:
    """(points, ``outcomes``, statistics) of each of ``overrides`` run as ``job`` says, one
    point a chunk."""
    chunks = make_chunks(overrides, range(len(overrides)), 1)
    stats = np.full((len(overrides), outcomes, len(STATS)), np.nan)
    for first, chunk_stats in executor.map(evaluate_chunk, job, chunks):
        stats[first : first + len(chunk_stats)] = chunk_stats
    return stats
