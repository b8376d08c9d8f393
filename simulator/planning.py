"""The allocation problem of one year, outside a simulation: every cluster open, none at risk."""

from __future__ import annotations

from simulator.allocation import AllocationRequest, ArenaAllocator, CommitmentBook
from simulator.scenario import Scenario
from simulator.schedules import schedule_value


def planned_request(
    scenario: Scenario, year: int, allocator: ArenaAllocator, with_commitments: bool = True
) -> AllocationRequest:
    """The allocation request for ``year`` when every cluster stays open and none is at risk.

    With ``with_commitments`` the earlier years are allocated first, by ``allocator``,
    so the projects they start are committed in ``year``; without, ``year`` starts afresh.
    """
    start = scenario.programme.start_year
    open_clusters = frozenset(scenario.clusters)
    book = CommitmentBook(scenario.projects)
    if with_commitments:
        for earlier in range(start, year):
            budget = schedule_value(scenario.arena.budget, earlier, start)
            request = book.request(earlier, budget, open_clusters, frozenset())
            if budget > 0 or request.commitments:
                book.record(allocator.allocate(request))
    budget = schedule_value(scenario.arena.budget, year, start)
    return book.request(year, budget, open_clusters, frozenset())
