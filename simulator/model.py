"""Simulated runs: the programme office and the cluster processes (``ClusterBatch``) in a SimPy
environment.

One environment advances a **batch** of independent runs together: each cluster
process holds that cluster's members and books for every run of the batch, and
the office decides each year for every run. A run's results do not depend on the
batch it is in (see :mod:`simulator.members`), so a batch of one is one run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import simpy

from simulator.allocation import ArenaAllocator, ProportionalAllocator
from simulator.cluster import Announcements, ClusterBatch
from simulator.office import programme_office
from simulator.records import ALLOCATION_COLUMNS, AllocationRow, Event, YearlyTable, check_in_range
from simulator.scenario import Scenario

if TYPE_CHECKING:  # pandas is imported only when a frame is asked for
    import pandas as pd


@dataclass
class BatchResult:
    """What a batch of runs produced: the yearly table, and per run its allocation rows and
    events."""

    yearly: YearlyTable
    allocations: list[list[AllocationRow]]
    """Per run: one row per year × funded project."""
    events: list[list[Event]]
    """Per run: fee rises, activity cuts, closures, liquidations, transfers and arena cuts,
    in order."""

    def run(self, index: int) -> RunResult:
        """What run ``index`` of the batch produced."""
        return RunResult(self.yearly.run(index), self.allocations[index], self.events[index])


@dataclass
class RunResult:
    """What one run produced, with tidy-frame views."""

    table: YearlyTable
    """The run's yearly table (one run)."""
    allocation_rows: list[AllocationRow]
    events: list[Event]

    @property
    def yearly(self) -> pd.DataFrame:
        """One row per year × cluster."""
        return self.table.frame()

    @property
    def allocation(self) -> pd.DataFrame:
        """One row per year × funded project."""
        import pandas as pd

        return pd.DataFrame(self.allocation_rows, columns=list(ALLOCATION_COLUMNS))


def default_allocator(scenario: Scenario) -> ArenaAllocator:
    """The allocator the scenario asks for (``allocator.method``).

    The continuous LP with HiGHS hands the formulation's arrays to HiGHS directly
    (``simulator.lp_highs``); binary mode and CBC use the PuLP model.
    """
    options = scenario.allocator
    if options.method == "proportional":
        return ProportionalAllocator(scenario.projects)
    from simulator.lp import LinearProgramAllocator, highs_available

    if not options.binary and options.solver == "highs" and highs_available():
        from simulator.lp_highs import HighsAllocator

        return HighsAllocator(scenario.projects, options)
    return LinearProgramAllocator(scenario.projects, options)


def simulate_batch(
    scenario: Scenario,
    rngs: Sequence[np.random.Generator],
    allocator: ArenaAllocator | None = None,
    run_scenarios: Sequence[Scenario] | None = None,
) -> BatchResult:
    """Run the scenario once per generator in ``rngs``, from its first year to its horizon.

    ``run_scenarios[r]``, when given, is run r's own variant of ``scenario`` (a parameter
    set, or a study's point): it may differ only in the values a run can hold for itself,
    :data:`simulator.parameter_sets.PER_RUN_KEYS` (each cluster's base rates, the members'
    fee and value sensitivity and arena retention, ``private_income``, ``other_public``,
    management's private-funding lag and effort ceiling, ``absorption.probability``);
    everything else is read from ``scenario``.

    ``rngs[r]`` is run r's only source of randomness; ``allocator`` defaults to the one
    the scenario names and serves every run (pass a memoised one to share solutions
    across runs and batches). With open calls each run draws its proposals from a
    stream spawned from its generator (its other draws stay as without calls); they
    reach the allocator inside the run's requests, so one allocator serves every run.
    """
    runs = len(rngs)
    calls_rngs = [rng.spawn(1)[0] for rng in rngs] if scenario.open_calls is not None else None
    allocator = allocator or default_allocator(scenario)
    table = YearlyTable.empty(runs, scenario.years, list(scenario.clusters))
    result = BatchResult(table, [[] for _ in range(runs)], [[] for _ in range(runs)])
    env = simpy.Environment(initial_time=scenario.programme.start_year)
    announcements = Announcements(env)
    clusters = [
        ClusterBatch(index, cid, scenario, rngs, table, result.events, run_scenarios)
        for index, cid in enumerate(scenario.clusters)
    ]
    env.process(
        programme_office(
            env,
            scenario,
            clusters,
            allocator,
            announcements,
            result.allocations,
            result.events,
            calls_rngs,
        )
    )
    for cluster in clusters:
        env.process(cluster.run(env, announcements))
    env.run()
    check_in_range(table)
    return result


def simulate(
    scenario: Scenario,
    rng: np.random.Generator,
    allocator: ArenaAllocator | None = None,
) -> RunResult:
    """Run the scenario once (a batch of one; see :func:`simulate_batch`)."""
    return simulate_batch(scenario, [rng], allocator).run(0)
