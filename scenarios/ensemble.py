"""Run an ensemble: one independent random stream per run, in one or several processes.

Run ``i`` always draws from ``SeedSequence(seed).spawn(runs)[i]``, so its result
does not depend on how many processes there are or on the order runs finish;
results come back in run order so the files written are identical for any ``jobs``.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from scenarios.errors import quiet_worker
from simulator.allocation import ArenaAllocator, MemoisedAllocator
from simulator.model import default_allocator, simulate
from simulator.scenario import Scenario
from simulator.scorecard import score_run


@dataclass
class RunOutput:
    """One run's rows and scorecard, as sent back from a worker."""

    run: int
    yearly_rows: list[tuple]
    allocation_rows: list[tuple]
    events: list[tuple[int, str, str]]
    score_met: np.ndarray
    score_value: np.ndarray


@dataclass
class _Worker:
    scenario: Scenario
    seed: int
    allocator: ArenaAllocator

    def __call__(self, run: int) -> RunOutput:
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(run,)))
        result = simulate(self.scenario, rng, self.allocator)
        met, value = score_run(self.scenario, result.yearly_rows, result.allocation_rows)
        return RunOutput(run, result.yearly_rows, result.allocation_rows, result.events, met, value)


_worker: _Worker | None = None
"""The worker of a pool process (set once by ``_init_worker``; unused in the parent)."""


def _init_worker(scenario: Scenario, seed: int) -> None:
    global _worker
    quiet_worker()
    _worker = _Worker(scenario, seed, MemoisedAllocator(default_allocator(scenario)))


def _run_in_worker(run: int) -> RunOutput:
    assert _worker is not None, "pool worker not initialised"
    return _worker(run)


def run_stream(scenario: Scenario, runs: int, seed: int, jobs: int = 1) -> Iterator[RunOutput]:
    """Yield every run's output in run order (0, 1, ...), computed in ``jobs`` processes.

    Each process keeps one memoised allocator, so identical yearly allocation
    problems are solved once per process.
    """
    if jobs <= 1 or runs == 1:
        worker = _Worker(scenario, seed, MemoisedAllocator(default_allocator(scenario)))
        for run in range(runs):
            yield worker(run)
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    chunk = max(1, min(16, runs // (jobs * 8)))
    with context.Pool(jobs, initializer=_init_worker, initargs=(scenario, seed)) as pool:
        yield from pool.imap(_run_in_worker, range(runs), chunksize=chunk)
