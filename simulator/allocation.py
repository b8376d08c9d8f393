"""The interface through which the programme office spends a year's arena money.

An allocator takes an :class:`AllocationRequest` (the year, its budget, which
clusters may take money, which are at risk, which projects are committed) and
returns an :class:`Allocation` (the funded fraction of each project). Two
allocators implement it: :class:`ProportionalAllocator` here, and the linear
program in :mod:`simulator.lp` (through PuLP) and :mod:`simulator.lp_highs` (HiGHS
directly). Every allocator considers its own pool plus the request's open-call
proposals, so one allocator serves every run of an ensemble. Each allocator says
which part of a request its answer depends on (``problem_key``), so that
:class:`MemoisedAllocator` solves each distinct problem once within an ensemble.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from simulator.scenario import Project


@dataclass(frozen=True)
class AllocationRequest:
    """Everything a year's allocation depends on."""

    year: int
    budget: float
    """Arena money available this year (MSEK)."""
    eligible_clusters: frozenset[str]
    """Clusters still open; a project with any other cluster is not eligible."""
    at_risk: frozenset[str] = frozenset()
    """Open clusters with low reserves."""
    commitments: tuple[tuple[str, float], ...] = ()
    """(project id, fraction) of projects started earlier and still running."""
    started: frozenset[str] = frozenset()
    """Projects started in an earlier year (they cannot start again)."""
    proposals: tuple[Project, ...] = ()
    """Every open-call project the request refers to, beyond the allocator's own pool:
    this year's proposals and earlier ones among ``commitments``."""


@dataclass(frozen=True)
class Allocation:
    """The result of one year's allocation."""

    year: int
    fractions: Mapping[str, float]
    """Project id → funded fraction of its yearly cost (only projects funded this year)."""
    status: str = "Optimal"
    objective: float | None = None
    """Impact score of the funded portfolio (LP only)."""
    shadow_price: float | None = None
    """Extra objective per extra MSEK of budget (LP only, continuous mode)."""
    details: Mapping[str, float] = field(default_factory=dict)
    """Extra figures, e.g. the slack of named constraints."""


class ArenaAllocator(Protocol):
    """Anything that turns an allocation request into an allocation."""

    def allocate(self, request: AllocationRequest) -> Allocation:
        """Allocate one year's arena money."""
        ...

    def problem_key(self, request: AllocationRequest) -> Hashable:
        """What the answer depends on: requests with equal keys get equal allocations."""
        ...


def request_pool(projects: Sequence[Project], request: AllocationRequest) -> list[Project]:
    """The projects a request is allocated over: an allocator's pool and the request's proposals."""
    return [*projects, *request.proposals]


def eligible_new_projects(projects: Sequence[Project], request: AllocationRequest) -> list[Project]:
    """Projects that may start this year: started never, open not before (nor lapsed), all
    clusters open."""
    year, started, open_clusters = request.year, request.started, request.eligible_clusters
    return [
        p
        for p in projects
        if p.id not in started
        and p.earliest_start <= year
        and (p.latest_start is None or year <= p.latest_start)
        and open_clusters.issuperset(p.clusters)
    ]


def live_commitments(
    projects_by_id: Mapping[str, Project], request: AllocationRequest
) -> dict[str, float]:
    """Committed projects whose clusters are all still open (project id → fraction)."""
    open_clusters = request.eligible_clusters
    return {
        pid: fraction
        for pid, fraction in request.commitments
        if open_clusters.issuperset(projects_by_id[pid].clusters)
    }


def problem_key(
    projects: Sequence[Project], request: AllocationRequest, *, weights: bool
) -> Hashable:
    """A canonical key of the request's problem over ``projects``: requests with equal keys
    have the same program (and the same proportional split).

    It holds the year, the budget, and for each project that takes part (live
    commitments in the request's order, then the eligible new projects in pool order,
    as the allocators take them) what the program uses of it: its data, its committed
    fraction (``None`` for a new start) and, with ``weights``, how many of its clusters
    are at risk (its objective weight). The rest of the request only acts through these:
    open clusters and earlier starts through which projects take part (every cluster of
    a project that takes part is open, so the cover rows follow from the projects),
    clusters at risk through the weights. A last flag tells "no project eligible and no
    commitment at all" (answered without a program) from commitments that all lapsed.
    """
    pool = request_pool(projects, request)
    by_id = {p.id: p for p in pool}
    committed = live_commitments(by_id, request)
    taking_part = [(by_id[pid], fraction) for pid, fraction in committed.items()]
    taking_part += [(p, None) for p in eligible_new_projects(pool, request)]
    at_risk = request.at_risk if weights else frozenset()
    entries = tuple(
        (
            p.id,
            p.area,
            tuple(p.clusters),
            p.cost_per_year,
            p.cofunding_per_year,
            p.impact,
            p.growth_seed,
            sum(c in at_risk for c in p.clusters) if at_risk else 0,
            fraction,
        )
        for p, fraction in taking_part
    )
    nothing = not taking_part and not request.commitments
    return (request.year, request.budget, entries, nothing)


class ProportionalAllocator:
    """The simple rule: honour commitments, then fund every eligible new project at
    the same fraction ``f = min(1, remaining budget / total yearly cost of eligible projects)``.

    When the budget cannot cover the commitments, every commitment is scaled down by
    ``budget / committed cost``.
    """

    def __init__(self, projects: Sequence[Project]) -> None:
        self.projects = list(projects)

    def problem_key(self, request: AllocationRequest) -> Hashable:
        """What the split depends on (see :func:`problem_key`; clusters at risk do not count)."""
        return problem_key(self.projects, request, weights=False)

    def allocate(self, request: AllocationRequest) -> Allocation:
        """Allocate one year's arena money by the proportional rule."""
        pool = request_pool(self.projects, request)
        by_id = {p.id: p for p in pool}
        committed = live_commitments(by_id, request)
        committed_cost = sum(by_id[pid].cost_per_year * f for pid, f in committed.items())
        if committed_cost > request.budget and committed_cost > 0:
            scale = request.budget / committed_cost
            return Allocation(request.year, {pid: f * scale for pid, f in committed.items()})
        remaining = request.budget - committed_cost
        new = eligible_new_projects(pool, request)
        total_cost = sum(p.cost_per_year for p in new)
        fractions = dict(committed)
        if total_cost > 0 and remaining > 0:
            share = min(1.0, remaining / total_cost)
            fractions.update({p.id: share for p in new})
        return Allocation(request.year, fractions)


MEMO_ENTRIES = 20_000
"""Problems a memo keeps (the oldest go first): about 100 MiB, whatever the ensemble size."""


class MemoisedAllocator:
    """Wraps an allocator so requests with the same problem (``problem_key``) are solved once.

    It keeps the last ``max_entries`` problems solved (first in, first out), so its memory
    does not grow with the ensemble; a problem solved again gets the same answer, so
    what is forgotten changes no result.
    """

    def __init__(self, inner: ArenaAllocator, max_entries: int = MEMO_ENTRIES) -> None:
        self.inner = inner
        self.max_entries = max_entries
        self.cache: dict[Hashable, Allocation] = {}
        self.hits = 0
        self.misses = 0

    def problem_key(self, request: AllocationRequest) -> Hashable:
        """The inner allocator's key."""
        return self.inner.problem_key(request)

    def allocate(self, request: AllocationRequest) -> Allocation:
        """The inner allocator's answer, from the cache when its problem was solved before."""
        key = self.inner.problem_key(request)
        found = self.cache.get(key)
        if found is not None:
            self.hits += 1
            return found
        self.misses += 1
        allocation = self.inner.allocate(request)
        if len(self.cache) >= self.max_entries:
            del self.cache[next(iter(self.cache))]
        self.cache[key] = allocation
        return allocation


class CommitmentBook:
    """Which projects have started, when and at what fraction; turns a year into a request.

    A project started in year s at fraction f is committed at f through year
    ``s + duration - 1``; a started project cannot start again. Open-call proposals
    join the book (:meth:`add`); a request carries those it refers to.
    """

    def __init__(self, projects: Sequence[Project]) -> None:
        self.durations = {p.id: p.duration for p in projects}
        self.started: dict[str, tuple[int, float]] = {}
        self.proposals: dict[str, Project] = {}

    def add(self, projects: Sequence[Project]) -> None:
        """Open-call proposals join the book."""
        self.durations.update((p.id, p.duration) for p in projects)
        self.proposals.update((p.id, p) for p in projects)

    def request(
        self, year: int, budget: float, open_clusters: frozenset[str], at_risk: frozenset[str]
    ) -> AllocationRequest:
        """The allocation request for ``year`` given what has started before it, with the
        proposals still running (committed) or still able to start."""
        commitments = tuple(
            sorted(
                (pid, fraction)
                for pid, (began, fraction) in self.started.items()
                if began + self.durations[pid] > year
            )
        )
        committed = {pid for pid, _ in commitments}
        proposals = tuple(
            p
            for pid, p in self.proposals.items()
            if pid in committed
            or (
                pid not in self.started
                and p.earliest_start <= year
                and (p.latest_start is None or year <= p.latest_start)
            )
        )
        return AllocationRequest(
            year, budget, open_clusters, at_risk, commitments, frozenset(self.started), proposals
        )

    def record(self, allocation: Allocation) -> None:
        """Note the projects that start in the allocation's year."""
        for pid, fraction in sorted(allocation.fractions.items()):
            if fraction > 0:
                self.started.setdefault(pid, (allocation.year, fraction))
