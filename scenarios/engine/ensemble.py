"""Run an ensemble: runs go in batches (one SimPy simulation advances a batch), in one or
several processes.

Run ``i`` always draws from ``SeedSequence(seed, spawn_key=(i,))``, and a run's numbers
do not depend on the batch it shares (see :mod:`simulator.members`), so results do not
depend on the batch size, on how many processes there are, or on the order batches
finish; batches come back in run order so the files written are identical for any
``jobs`` and ``batch_size``.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from scenarios.core.stops import quiet_worker
from scenarios.engine.summary import summary_metrics
from scenarios.folders.run_rows import allocation_text, events_text, tidy_table, yearly_text
from simulator.allocation import ArenaAllocator, MemoisedAllocator
from simulator.model import BatchResult, default_allocator, simulate_batch
from simulator.scenario import Scenario
from simulator.scorecard import score_runs

MAX_BATCH = 64
"""The largest batch chosen by default: beyond it numpy gains little and memory grows."""


def run_rng(seed: int, run: int) -> np.random.Generator:
    """The random stream of run ``run`` of an ensemble with ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(run,)))


def run_batches(runs: int, size: int) -> list[range]:
    """Runs ``0 .. runs - 1`` in consecutive batches of ``size`` (the last may be shorter)."""
    return [range(first, min(runs, first + size)) for first in range(0, runs, size)]


def default_batch_size(runs: int, jobs: int) -> int:
    """Batches of up to ``MAX_BATCH`` runs, at least four per process so the work spreads."""
    return max(1, min(MAX_BATCH, -(-runs // (4 * max(1, jobs)))))


@dataclass
class BatchOutput:
    """A batch of runs as sent back from a worker: its rows of ``yearly.csv``,
    ``allocation.csv`` and ``events.csv`` as text, its summary metrics and its scorecard
    (text rather than records, so the parent only writes it)."""

    first_run: int
    runs: int
    yearly_csv: str
    allocation_csv: str
    events_csv: str
    metrics: np.ndarray
    """(runs, years, clusters, summary metrics): :func:`scenarios.engine.summary.summary_metrics`."""
    score_met: np.ndarray
    """(runs, scored years, targets)."""
    score_value: np.ndarray


@dataclass
class _Worker:
    scenario: Scenario
    seed: int
    allocator: ArenaAllocator
    """Memoised, and kept for every batch the process runs."""

    def __call__(self, runs: range) -> BatchOutput:
        rngs = [run_rng(self.seed, run) for run in runs]
        return batch_output(
            self.scenario, runs, simulate_batch(self.scenario, rngs, self.allocator)
        )


def batch_output(scenario: Scenario, runs: range, result: BatchResult) -> BatchOutput:
    """What a worker sends back for the batch ``runs`` once simulated: its scorecard, its
    CSV rows as text and its summary metrics."""
    met, value = score_runs(scenario, result.yearly, result.allocations)
    tidy = tidy_table(result.yearly)
    return BatchOutput(
        first_run=runs.start,
        runs=len(runs),
        yearly_csv=yearly_text(tidy, runs.start),
        allocation_csv=allocation_text(result.allocations, runs.start),
        events_csv=events_text(result.events, runs.start),
        metrics=summary_metrics(tidy),
        score_met=met,
        score_value=value,
    )


_worker: _Worker | None = None
"""The worker of a pool process (set once by ``_init_worker``; unused in the parent)."""


def _init_worker(scenario: Scenario, seed: int) -> None:
    global _worker
    quiet_worker()
    _worker = _Worker(scenario, seed, MemoisedAllocator(default_allocator(scenario)))


def _run_in_worker(runs: range) -> BatchOutput:
    assert _worker is not None, "pool worker not initialised"
    return _worker(runs)


def run_stream(
    scenario: Scenario, runs: int, seed: int, jobs: int = 1, batch_size: int | None = None
) -> Iterator[BatchOutput]:
    """Yield every batch's output in run order, computed in ``jobs`` processes.

    ``batch_size`` runs go in a batch (default :func:`default_batch_size`). Each
    process keeps one memoised allocator, so identical yearly allocation problems are
    solved once per process.
    """
    batches = run_batches(runs, batch_size or default_batch_size(runs, jobs))
    if jobs <= 1 or len(batches) == 1:
        worker = _Worker(scenario, seed, MemoisedAllocator(default_allocator(scenario)))
        for batch in batches:
            yield worker(batch)
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with context.Pool(jobs, initializer=_init_worker, initargs=(scenario, seed)) as pool:
        yield from pool.imap(_run_in_worker, batches, chunksize=1)
