"""Run an ensemble: runs go in batches (one SimPy simulation advances a batch), in this
process, a local pool or on Dask (:mod:`scenarios.engine.executor`).

Run ``i`` always draws from ``SeedSequence(seed, spawn_key=(i,))`` and, when the scenario
names parameter sets, uses set ``i mod K`` (:mod:`simulator.parameter_sets`), and a run's numbers
do not depend on the batch it shares (see :mod:`simulator.members`), so results do not
depend on the batch size, on where or in how many processes they run, or on the order
batches finish; batches come back in run order so the files written are identical for
any backend, ``jobs`` and ``batch_size``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from scenarios.engine.executor import Executor
from scenarios.engine.summary import summary_metrics
from scenarios.folders.run_rows import allocation_text, events_text, tidy_table, yearly_text
from simulator.allocation import ArenaAllocator, MemoisedAllocator
from simulator.model import BatchResult, default_allocator, simulate_batch
from simulator.parameter_sets import run_variants, set_variants
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


def shrinking_size(left: int, usual: int, jobs: int) -> int:
    """How many items the next batch (or chunk) takes when ``left`` are still to go: ``usual``,
    and with more than one process, smaller towards the end so the processes finish
    together: at most ``ceil(left / (2 * jobs))``, and at least a quarter of ``usual`` (a
    batch has a cost of its own).

    With batches of ``usual`` to the end, one process could sit idle for most of a batch
    while another ran the last one (about 2 s with 64 runs a batch). A run's numbers do not
    depend on its batch, so this changes how fast, never what."""
    if jobs <= 1:
        return min(left, usual)
    return min(left, max(max(1, usual // 4), min(usual, -(-left // (2 * jobs)))))


def default_batches(runs: int, jobs: int) -> list[range]:
    """Runs ``0 .. runs - 1`` in consecutive batches of :func:`default_batch_size` runs,
    smaller towards the end with more than one process (:func:`shrinking_size`)."""
    usual = default_batch_size(runs, jobs)
    batches, first = [], 0
    while first < runs:
        size = shrinking_size(runs - first, usual, jobs)
        batches.append(range(first, first + size))
        first += size
    return batches


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


class BatchJob:
    """What a worker needs to simulate the batches of one ensemble: the scenario and the seed.
    Each process makes its own memoised allocator on first use and keeps it for every batch
    it runs, so identical yearly allocation problems are solved once per process (what it
    remembers changes no result)."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.scenario = scenario
        self.seed = seed
        self._allocator: ArenaAllocator | None = None
        self._variants: Sequence[Scenario] | None = None

    def __getstate__(self) -> dict[str, object]:
        return {"scenario": self.scenario, "seed": self.seed}  # a fresh memo in each process

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__init__(state["scenario"], state["seed"])  # type: ignore[misc, arg-type]

    @property
    def allocator(self) -> ArenaAllocator:
        """This process's memoised allocator."""
        if self._allocator is None:
            self._allocator = MemoisedAllocator(default_allocator(self.scenario))
        return self._allocator

    @property
    def variants(self) -> Sequence[Scenario]:
        """The scenario's parameter sets as variants (empty without sets), made once."""
        if self._variants is None:
            self._variants = set_variants(self.scenario)
        return self._variants


def simulate_runs(job: BatchJob, runs: range) -> BatchOutput:
    """Simulate the batch ``runs`` of ``job``'s ensemble and reduce it to what is written."""
    rngs = [run_rng(job.seed, run) for run in runs]
    result = simulate_batch(job.scenario, rngs, job.allocator, run_variants(job.variants, runs))
    return batch_output(job.scenario, runs, result)


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


def run_stream(
    scenario: Scenario,
    runs: int,
    seed: int,
    executor: Executor,
    batch_size: int | None = None,
) -> Iterator[BatchOutput]:
    """Yield every batch's output in run order, computed where ``executor`` runs work.

    ``batch_size`` runs go in a batch (default :func:`default_batches` for the executor's
    workers).
    """
    jobs = executor.backend.jobs
    batches = run_batches(runs, batch_size) if batch_size else default_batches(runs, jobs)
    yield from executor.map(simulate_runs, BatchJob(scenario, seed), batches)
