"""One simulated run: the programme office and the cluster agents in a SimPy environment."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import simpy

from simulator.allocation import ArenaAllocator, ProportionalAllocator
from simulator.cluster import YEARLY_COLUMNS, Announcements, ClusterAgent
from simulator.office import ALLOCATION_COLUMNS, programme_office
from simulator.scenario import Scenario


@dataclass
class RunResult:
    """What one run produced, as plain rows (fast to stream) with tidy-frame views."""

    yearly_rows: list[tuple] = field(default_factory=list)
    """One tuple per year × cluster, in ``YEARLY_COLUMNS`` order."""
    allocation_rows: list[tuple] = field(default_factory=list)
    """One tuple per year × funded project, in ``ALLOCATION_COLUMNS`` order."""
    events: list[tuple[int, str, str]] = field(default_factory=list)
    """(year, cluster, what happened): fee rises, activity cuts, closures."""

    @property
    def yearly(self) -> pd.DataFrame:
        """One row per year × cluster."""
        return pd.DataFrame(self.yearly_rows, columns=list(YEARLY_COLUMNS))

    @property
    def allocation(self) -> pd.DataFrame:
        """One row per year × funded project."""
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


def simulate(
    scenario: Scenario,
    rng: np.random.Generator,
    allocator: ArenaAllocator | None = None,
) -> RunResult:
    """Run the scenario once from its first year to its horizon.

    ``rng`` is the run's only source of randomness; ``allocator`` defaults to the
    one the scenario names (pass a memoised one to share solutions across runs). With
    open calls the run draws its proposals from a stream spawned from ``rng`` (the
    other draws stay as without calls); they reach the allocator inside its requests,
    so a shared allocator serves this run too.
    """
    calls_rng = None
    if scenario.open_calls is not None:
        calls_rng = rng.spawn(1)[0]
    allocator = allocator or default_allocator(scenario)
    result = RunResult()
    env = simpy.Environment(initial_time=scenario.programme.start_year)
    announcements = Announcements(env)
    agents = {
        cid: ClusterAgent(cid, scenario, rng, result.yearly_rows, result.events)
        for cid in scenario.clusters
    }
    env.process(
        programme_office(
            env,
            scenario,
            agents,
            allocator,
            announcements,
            result.allocation_rows,
            calls_rng,
            result.events,
        )
    )
    for agent in agents.values():
        env.process(agent.run(env, announcements))
    env.run()
    return result
