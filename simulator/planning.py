"""A year's allocation step (request → allocate → record), in a simulation or outside one."""

from __future__ import annotations

from collections.abc import Sequence

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
    office (for many runs at once, :func:`allocation_steps`) and the plan outside a
    simulation (:func:`planned_request`) both take this step."""
    return allocation_steps([book], allocator, year, budget, [open_clusters], [at_risk])[0]


def allocation_steps(
    books: Sequence[CommitmentBook],
    allocator: ArenaAllocator,
    year: int,
    budget: float,
    open_clusters: Sequence[frozenset[str]],
    at_risk: Sequence[frozenset[str]],
) -> list[tuple[AllocationRequest, Allocation]]:
    """:func:`allocation_step` for each of ``books`` (one per run, with that run's open
    clusters and clusters at risk), the allocator asked once for all of them
    (:meth:`simulator.allocation.ArenaAllocator.allocate_all`): each answer is the one its
    request gets alone."""
    cap = allocator.cluster_cap_share
    requests = [
        book.request(year, budget, open_ids, risky, cap)
        for book, open_ids, risky in zip(books, open_clusters, at_risk, strict=True)
    ]
    asked = [r for r, request in enumerate(requests) if budget > 0 or request.commitments]
    answers = dict(zip(asked, allocator.allocate_all([requests[r] for r in asked]), strict=True))
    steps = []
    for r, (book, request) in enumerate(zip(books, requests, strict=True)):
        allocation = answers[r] if r in answers else Allocation(year, {})
        book.record(allocation)
        steps.append((request, allocation))
    return steps


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
