"""Evaluate points: a point is a set of config overrides; its outcomes are measured
over replications with common random numbers, and reduced in the worker.

Replication ``r`` of every point draws from ``SeedSequence(seed, spawn_key=(r,))``,
the same stream as run ``r`` of ``clusterfund run`` with that seed, so two points
differ by their inputs and not by their luck, and a point can be re-run with
``clusterfund run`` to get exactly the same numbers. Only the outcome statistics
(mean, P10, P50, P90, sd per outcome) leave the worker, never the yearly rows.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from scenarios.config import apply_set, validate_document
from scenarios.ensemble import MAX_BATCH, run_batches, run_rng
from simulator.allocation import MemoisedAllocator
from simulator.model import default_allocator, simulate_batch
from simulator.outcomes import Outcome, OutcomeMeter, summarise_replications


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
        """The base document with one point's overrides applied."""
        document = copy.deepcopy(self.document)
        for key, value in overrides.items():
            apply_set(document, key, value)
        return document

    def evaluate(self, overrides: dict[str, Any], replications: int, seed: int) -> np.ndarray:
        """Run the point's scenario ``replications`` times; one row of outcomes per run."""
        scenario = validate_document(self.scenario_document(overrides), {}, self.source)
        allocator = MemoisedAllocator(default_allocator(scenario))
        meter = OutcomeMeter(scenario, self.outcomes)
        values = np.empty((replications, len(self.outcomes)))
        for runs in run_batches(replications, MAX_BATCH):  # replication r is run r of `run`
            result = simulate_batch(scenario, [run_rng(seed, r) for r in runs], allocator)
            values[runs.start : runs.stop] = meter.measure(result.yearly, result.allocations)
        return values


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


def evaluate_chunk(job: ChunkJob, chunk: Chunk) -> tuple[int, np.ndarray]:
    """(first point, array (points, outcomes, 5)) of mean, P10, P50, P90, sd over replications."""
    stats = np.stack(
        [
            summarise_replications(job.model.evaluate(overrides, job.replications, job.seed))
            for overrides in chunk.overrides
        ]
    )
    return chunk.first, stats


def make_chunks(
    points: Sequence[dict[str, Any]], todo: Sequence[int], points_per_chunk: int
) -> list[Chunk]:
    """Cut the points still to do into chunks of consecutive points."""
    chunks: list[Chunk] = []
    run: list[int] = []
    for index in todo:
        if run and (index != run[-1] + 1 or len(run) == points_per_chunk):
            chunks.append(Chunk(run[0], tuple(points[i] for i in run)))
            run = []
        run.append(index)
    if run:
        chunks.append(Chunk(run[0], tuple(points[i] for i in run)))
    return chunks


def points_per_chunk(replications: int, points: int, jobs: int, runs_per_chunk: int = 96) -> int:
    """A chunk size of a few seconds: about ``runs_per_chunk`` model runs, and at
    least four chunks per worker so the last ones don't leave a core idle."""
    by_time = max(1, runs_per_chunk // max(1, replications))
    by_balance = max(1, -(-points // (4 * max(1, jobs))))
    return min(by_time, by_balance)
