"""The interface through which the programme office spends a year's arena money.

An allocator takes an :class:`AllocationRequest` (the year, its budget, which
clusters may take money, which are at risk, which projects are committed) and
returns an :class:`Allocation` (the funded fraction of each project). Two
allocators implement it: :class:`ProportionalAllocator` here, and the linear
program in :mod:`simulator.lp`. Requests are hashable so that
:class:`MemoisedAllocator` can skip identical problems within an ensemble.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from simulator.scenario import Project


@dataclass(frozen=True)
class AllocationRequest:
    """Everything a year's allocation depends on (hashable, so it can be memoised)."""

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


def eligible_new_projects(projects: Sequence[Project], request: AllocationRequest) -> list[Project]:
    """Projects that may start this year: started never, open not before (nor lapsed), all
    clusters open."""
    return [
        p
        for p in projects
        if p.id not in request.started
        and p.earliest_start <= request.year
        and (p.latest_start is None or request.year <= p.latest_start)
        and all(c in request.eligible_clusters for c in p.clusters)
    ]


def live_commitments(
    projects_by_id: Mapping[str, Project], request: AllocationRequest
) -> dict[str, float]:
    """Committed projects whose clusters are all still open (project id → fraction)."""
    return {
        pid: fraction
        for pid, fraction in request.commitments
        if all(c in request.eligible_clusters for c in projects_by_id[pid].clusters)
    }


class ProportionalAllocator:
    """The simple rule: honour commitments, then fund every eligible new project at
    the same fraction ``f = min(1, remaining budget / total yearly cost of eligible projects)``.

    When the budget cannot cover the commitments, every commitment is scaled down by
    ``budget / committed cost``.
    """

    def __init__(self, projects: Sequence[Project]) -> None:
        self.projects = list(projects)
        self.by_id = {p.id: p for p in self.projects}

    def add_projects(self, projects: Sequence[Project]) -> None:
        """Open-call proposals join the pool."""
        self.projects += projects
        self.by_id.update((p.id, p) for p in projects)

    def allocate(self, request: AllocationRequest) -> Allocation:
        """Allocate one year's arena money by the proportional rule."""
        committed = live_commitments(self.by_id, request)
        committed_cost = sum(self.by_id[pid].cost_per_year * f for pid, f in committed.items())
        if committed_cost > request.budget and committed_cost > 0:
            scale = request.budget / committed_cost
            return Allocation(request.year, {pid: f * scale for pid, f in committed.items()})
        remaining = request.budget - committed_cost
        new = eligible_new_projects(self.projects, request)
        total_cost = sum(p.cost_per_year for p in new)
        fractions = dict(committed)
        if total_cost > 0 and remaining > 0:
            share = min(1.0, remaining / total_cost)
            fractions.update({p.id: share for p in new})
        return Allocation(request.year, fractions)


class MemoisedAllocator:
    """Wraps an allocator so identical requests are solved once."""

    def __init__(self, inner: ArenaAllocator) -> None:
        self.inner = inner
        self.cache: dict[AllocationRequest, Allocation] = {}
        self.hits = 0
        self.misses = 0

    def allocate(self, request: AllocationRequest) -> Allocation:
        """The inner allocator's answer, from the cache when this request was seen."""
        found = self.cache.get(request)
        if found is not None:
            self.hits += 1
            return found
        self.misses += 1
        allocation = self.inner.allocate(request)
        self.cache[request] = allocation
        return allocation


class CommitmentBook:
    """Which projects have started, when and at what fraction; turns a year into a request.

    A project started in year s at fraction f is committed at f through year
    ``s + duration - 1``; a started project cannot start again.
    """

    def __init__(self, projects: Sequence[Project]) -> None:
        self.durations = {p.id: p.duration for p in projects}
        self.started: dict[str, tuple[int, float]] = {}

    def add(self, projects: Sequence[Project]) -> None:
        """Open-call proposals join the book."""
        self.durations.update((p.id, p.duration) for p in projects)

    def request(
        self, year: int, budget: float, open_clusters: frozenset[str], at_risk: frozenset[str]
    ) -> AllocationRequest:
        """The allocation request for ``year`` given what has started before it."""
        commitments = tuple(
            sorted(
                (pid, fraction)
                for pid, (began, fraction) in self.started.items()
                if began + self.durations[pid] > year
            )
        )
        return AllocationRequest(
            year, budget, open_clusters, at_risk, commitments, frozenset(self.started)
        )

    def record(self, allocation: Allocation) -> None:
        """Note the projects that start in the allocation's year."""
        for pid, fraction in sorted(allocation.fractions.items()):
            if fraction > 0:
                self.started.setdefault(pid, (allocation.year, fraction))
