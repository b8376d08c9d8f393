"""A year's allocation step (request → allocate → record), in a simulation or outside one."""

from __future__ import annotations

from simulator.allocation import Allocation, AllocationRequest, ArenaAllocator, CommitmentBook
from simulator.scenario import Scenario
from simulator.schedules import schedule_value


def allocation_step(
    book: CommitmentBook,
    allocator: ArenaAllocator,
    year: int,
    budget: float,
    open_clusters: frozenset[str],
    at_risk: frozenset[str],
) -> tuple[AllocationRequest, Allocation]:
    """One year's arena decision: the request from what ``book`` has started (its
    commitments cut pro rata where the budget or the allocator's cluster cap cannot cover
    them; the request lists the cuts), the allocator's answer (nothing to decide without
    money or commitments), and the projects it starts noted in ``book``. The programme
    office and the plan outside a simulation (:func:`planned_request`) both take this step."""
    request = book.request(year, budget, open_clusters, at_risk, allocator.cluster_cap_share)
    allocation = (
        allocator.allocate(request) if budget > 0 or request.commitments else Allocation(year, {})
    )
    book.record(allocation)
    return request, allocation


def planned_request(
    scenario: Scenario, year: int, allocator: ArenaAllocator, with_commitments: bool = True
) -> AllocationRequest:
    """The allocation request for ``year`` when every cluster stays open and none is at risk.

    With ``with_commitments`` the earlier years are allocated first, by ``allocator``,
    so the projects they start are committed in ``year`` (cut as :func:`allocation_step`
    cuts them); without, ``year`` starts afresh.
    """
    start = scenario.programme.start_year
    open_clusters = frozenset(scenario.clusters)
    book = CommitmentBook(scenario.projects)
    if with_commitments:
        for earlier in range(start, year):
            budget = schedule_value(scenario.arena.budget, earlier, start)
            allocation_step(book, allocator, earlier, budget, open_clusters, frozenset())
    budget = schedule_value(scenario.arena.budget, year, start)
    return book.request(year, budget, open_clusters, frozenset(), allocator.cluster_cap_share)
