"""Evaluate points: a point is a set of config overrides; its outcomes are measured
over replications with common random numbers, and reduced in the worker.

Replication ``r`` of every point draws from ``SeedSequence(seed, spawn_key=(r,))``,
the same stream as run ``r`` of ``clusterfund run`` with that seed, so two points
differ by their inputs and not by their luck, and a point can be re-run with
``clusterfund run`` to get exactly the same numbers. When the base scenario names parameter
sets, replication ``r`` uses set ``r mod K`` as run ``r`` does, the point's own values
winning over the set's for the keys it sets. Only the outcome statistics
(mean, P10, P50, P90, sd per outcome) leave the worker, never the yearly rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from tqdm import tqdm

from scenarios.config.keys import with_set_values
from scenarios.config.scenario import validate_document
from scenarios.core.errors import UserError, problem_line
from scenarios.engine.ensemble import MAX_BATCH, run_batches, run_rng, shrinking_size
from scenarios.engine.executor import Executor
from scenarios.folders.work_folder import WorkFolder
from simulator.allocation import MemoisedAllocator
from simulator.lp import InfeasibleAllocation
from simulator.model import default_allocator, simulate_batch
from simulator.outcomes import STATS, Outcome, OutcomeMeter, summarise_replications
from simulator.parameter_sets import (
    is_per_run_key,
    per_run_value,
    run_variants,
    set_variants,
    with_values,
)
from simulator.records import OutOfRange


class PointFailed(UserError):
    """A point the model cannot run: its arena allocation cannot be met (hard targets,
    ``allocator.soft_targets = false``, that its pool cannot reach), or its numbers leave the
    model's range (:class:`simulator.records.OutOfRange`). One line naming the file, the
    point and its values, and why.

    It is raised in the worker that evaluates the point and pickles (its ``args`` are what
    ``__init__`` takes), so it reaches the command as this line from any backend.
    """

    def __init__(
        self, source: str, overrides: dict[str, Any], reason: str, label: str = "a point"
    ) -> None:
        values = ", ".join(f"{key} = {_shown(value)}" for key, value in overrides.items())
        super().__init__(
            problem_line(source, None, f"{label} ({values or 'the base scenario'}): {reason}")
        )
        self.args = (source, overrides, reason, label)
        self.source, self.overrides, self.reason, self.label = source, overrides, reason, label

    def named(self, label: str) -> PointFailed:
        """The same error for the point called ``label`` (``point 17``)."""
        return PointFailed(self.source, self.overrides, self.reason, label)


def _shown(value: Any) -> str:
    """An override's value as the error line shows it (floats to 6 significant digits)."""
    return f"{value:.6g}" if isinstance(value, float) else str(value)


class PointModel(Protocol):
    """Anything that turns one point's overrides into outcome values per replication."""

    def evaluate(self, overrides: dict[str, Any], replications: int, seed: int) -> np.ndarray:
        """(replications, outcomes) values for one point."""
        ...


@dataclass(frozen=True)
class ScenarioModel:
    """The clusterfund simulator as a point model: base document + overrides → outcomes."""

    document: dict[str, Any]
    """The base scenario's resolved document (plain data, so it pickles cheaply)."""
    outcomes: tuple[Outcome, ...]
    source: str = "experiment"
    """Named in errors (the experiment or policy file)."""

    def scenario_document(self, overrides: dict[str, Any]) -> dict[str, Any]:
        """The base document with one point's overrides applied (sharing what they leave
        alone with the base)."""
        return with_set_values(self.document, overrides)

    def evaluate(self, overrides: dict[str, Any], replications: int, seed: int) -> np.ndarray:
        """Run the point's scenario ``replications`` times; one row of outcomes per run.

        An allocation that cannot be met raises :class:`PointFailed`. The base scenario's
        parameter sets were checked when it was loaded, and a set's value is checked against
        its own field alone, so a point cannot change that check: it is not repeated."""
        document = self.scenario_document(overrides)
        scenario = validate_document(document, {}, self.source, check_sets=False)
        allocator = MemoisedAllocator(default_allocator(scenario))
        meter = OutcomeMeter(scenario, self.outcomes)
        variants = set_variants(scenario, fixed=list(overrides))  # the point's values win
        values = np.empty((replications, len(self.outcomes)))
        for runs in run_batches(replications, MAX_BATCH):  # replication r is run r of `run`
            try:
                result = simulate_batch(
                    scenario,
                    [run_rng(seed, r) for r in runs],
                    allocator,
                    run_variants(variants, runs),
                )
            except (InfeasibleAllocation, OutOfRange) as exc:
                raise PointFailed(self.source, overrides, str(exc)) from None
            values[runs.start : runs.stop] = meter.measure(result.yearly, result.allocations)
        return values

    def evaluate_points(
        self, points: Sequence[dict[str, Any]], replications: int, seed: int
    ) -> list[np.ndarray]:
        """(replications, outcomes) values for each of ``points``, as :meth:`evaluate` gives
        them. Points that set only keys a run holds for itself
        (:data:`simulator.parameter_sets.PER_RUN_KEYS`) share batches of up to ``MAX_BATCH``
        runs, so a point of ten replications is not a batch of ten; a run's numbers never
        depend on its batch companions (tested byte for byte), so sharing changes how fast,
        not what. Other points run alone. When a shared batch fails, its points are run
        alone in order, and the first that fails is named."""
        values: list[np.ndarray | None] = [None] * len(points)
        sharing = [i for i, point in enumerate(points) if all(map(is_per_run_key, point))]
        for i, point in enumerate(points):
            if i not in sharing:
                values[i] = self.evaluate(point, replications, seed)
        if sharing:
            shared = self._evaluate_sharing([points[i] for i in sharing], replications, seed)
            for i, point_values in zip(sharing, shared, strict=True):
                values[i] = point_values
        return [v for v in values if v is not None]

    def _evaluate_sharing(
        self, points: list[dict[str, Any]], replications: int, seed: int
    ) -> list[np.ndarray]:
        """:meth:`evaluate_points` for points that set only per-run keys: every (point,
        replication) is one run of the base scenario with its own variant (the point's
        values, and replication r's parameter set, r mod K, for the keys the point leaves)."""
        base = validate_document(self.document, {}, self.source, check_sets=False)
        point_values = []
        for point in points:  # checked as evaluate checks them; the values as validated
            scenario = validate_document(
                self.scenario_document(point), {}, self.source, check_sets=False
            )
            point_values.append({key: per_run_value(scenario, key) for key in point})
        units = [(p, r) for p in range(len(points)) for r in range(replications)]
        variants = [set_variants(base, fixed=list(values)) for values in point_values]
        allocator = MemoisedAllocator(default_allocator(base))
        meter = OutcomeMeter(base, self.outcomes)
        values = np.empty((len(units), len(self.outcomes)))
        for batch in run_batches(len(units), MAX_BATCH):
            members = units[batch.start : batch.stop]
            run_scenarios = [
                with_values(
                    variants[p][r % len(variants[p])] if variants[p] else base, point_values[p]
                )
                for p, r in members
            ]
            try:
                result = simulate_batch(
                    base, [run_rng(seed, r) for _, r in members], allocator, run_scenarios
                )
            except (InfeasibleAllocation, OutOfRange) as exc:
                for p in dict.fromkeys(p for p, _ in members):  # names the first that fails
                    self.evaluate(points[p], replications, seed)
                raise PointFailed(self.source, points[members[0][0]], str(exc)) from None
            values[batch.start : batch.stop] = meter.measure(result.yearly, result.allocations)
        return [values[p * replications : (p + 1) * replications] for p in range(len(points))]


@dataclass(frozen=True)
class Chunk:
    """A run of consecutive points, evaluated together in one worker."""

    first: int
    """Index of the first point."""
    overrides: tuple[dict[str, Any], ...]
    """One set of overrides per point."""

    @property
    def last(self) -> int:
        """Index of the last point."""
        return self.first + len(self.overrides) - 1


@dataclass(frozen=True)
class ChunkJob:
    """What a worker needs: the model, the replications and the seed (the same for all)."""

    model: PointModel
    replications: int
    seed: int
    what: str = "point"
    """What a point is called in errors (``point 17``; optimise: ``evaluation 17``)."""
    first_number: int = 0
    """The number errors give the first point (``what`` and number name it)."""


def evaluate_chunk(job: ChunkJob, chunk: Chunk) -> tuple[int, np.ndarray]:
    """(first point, array (points, outcomes, 5)) of mean, P10, P50, P90, sd over replications.

    A point whose allocation cannot be met raises :class:`PointFailed` naming it."""
    if isinstance(job.model, ScenarioModel):  # the simulator: points may share batches
        try:
            values = job.model.evaluate_points(chunk.overrides, job.replications, job.seed)
        except PointFailed as exc:
            index = chunk.first + chunk.overrides.index(exc.overrides)
            raise exc.named(f"{job.what} {job.first_number + index}") from None
        return chunk.first, np.stack([summarise_replications(v) for v in values])
    stats = []
    for index, overrides in enumerate(chunk.overrides, start=chunk.first):
        try:
            values_of_point = job.model.evaluate(overrides, job.replications, job.seed)
        except PointFailed as exc:
            raise exc.named(f"{job.what} {job.first_number + index}") from None
        stats.append(summarise_replications(values_of_point))
    return chunk.first, np.stack(stats)


def make_chunks(
    points: Sequence[dict[str, Any]], todo: Sequence[int], points_per_chunk: int, jobs: int = 1
) -> list[Chunk]:
    """Cut the points still to do into chunks of consecutive points: ``points_per_chunk``
    each, and for more than one process (``jobs``) smaller towards the end
    (:func:`scenarios.engine.ensemble.shrinking_size`)."""
    chunks: list[Chunk] = []
    run: list[int] = []
    size = shrinking_size(len(todo), points_per_chunk, jobs)
    for done, index in enumerate(todo):
        if run and (index != run[-1] + 1 or len(run) == size):
            chunks.append(Chunk(run[0], tuple(points[i] for i in run)))
            run = []
            size = shrinking_size(len(todo) - done, points_per_chunk, jobs)
        run.append(index)
    if run:
        chunks.append(Chunk(run[0], tuple(points[i] for i in run)))
    return chunks


def points_per_chunk(replications: int, points: int, jobs: int, runs_per_chunk: int = 128) -> int:
    """A chunk size of a few seconds: about ``runs_per_chunk`` model runs, and at
    least four chunks per worker so the last ones don't leave a core idle."""
    by_time = max(1, runs_per_chunk // max(1, replications))
    by_balance = max(1, -(-points // (4 * max(1, jobs))))
    return min(by_time, by_balance)


def run_points(
    model: PointModel,
    overrides: Sequence[dict[str, Any]],
    replications: int,
    seed: int,
    work: WorkFolder,
    executor: Executor,
    *,
    outcomes: int,
    label: str,
    chunk_points: int | None = None,
    progress: bool = True,
) -> np.ndarray:
    """Evaluate every point not yet saved in ``work`` (in chunks of ``chunk_points``, by
    default :func:`points_per_chunk`, smaller towards the end), saving each chunk as it
    comes back (in point order); (points, ``outcomes``, ``STATS``) statistics of every
    point, in point order."""
    points = len(overrides)
    stats, done = work.load_chunks(points, (outcomes, len(STATS)))
    todo = [i for i in range(points) if not done[i]]
    jobs = executor.backend.jobs
    if chunk_points:  # as asked
        chunks = make_chunks(overrides, todo, chunk_points)
    else:
        size = points_per_chunk(replications, len(todo), jobs)
        chunks = make_chunks(overrides, todo, size, jobs)
    job = ChunkJob(model, replications, seed)
    bar = tqdm(
        total=points,
        initial=points - len(todo),
        desc=label,
        unit="point",
        disable=None if progress else True,
    )
    with bar:
        for first, chunk_stats in executor.map(evaluate_chunk, job, chunks):
            work.save_chunk(first, chunk_stats)
            stats[first : first + len(chunk_stats)] = chunk_stats
            bar.update(len(chunk_stats))
    return stats
