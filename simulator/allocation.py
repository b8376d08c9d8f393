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

When a year's budget (or a cluster cap) cannot cover what earlier years committed,
:class:`CommitmentBook` cuts the commitments pro rata (:func:`cut_commitments`)
before any allocator sees the request, so every allocator gets a problem it can meet.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from simulator.scenario import AnyProject


@dataclass(frozen=True)
class CommitmentCut:
    """A commitment paid less than its contract in one year (see :func:`cut_commitments`)."""

    project: str
    contracted: float
    """The fraction the project was started at (what later years pay again)."""
    paid: float
    """The fraction paid this year (0: nothing this year)."""


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
    proposals: tuple[AnyProject, ...] = ()
    """Every open-call project the request refers to, beyond the allocator's own pool:
    this year's proposals and earlier ones among ``commitments``."""
    cuts: tuple[CommitmentCut, ...] = ()
    """Commitments cut this year to fit the budget and the cluster caps, by project id;
    ``commitments`` holds what they are paid (one cut to nothing is left out of it)."""


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

    @property
    def cluster_cap_share(self) -> float:
        """The largest share of a year's budget the allocator lets one cluster's projects
        take (1.0: no cap); a cut of the commitments keeps to it."""
        ...

    def allocate(self, request: AllocationRequest) -> Allocation:
        """Allocate one year's arena money."""
        ...

    def allocate_all(self, requests: Sequence[AllocationRequest]) -> list[Allocation]:
        """Allocate each of ``requests`` (the same year in many runs, say), in order: each
        answer is what :meth:`allocate` gives that request alone."""
        ...

    def problem_key(self, request: AllocationRequest) -> Hashable:
        """What the answer depends on: requests with equal keys get equal allocations."""
        ...


def request_pool(projects: Sequence[AnyProject], request: AllocationRequest) -> list[AnyProject]:
    """The projects a request is allocated over: an allocator's pool and the request's proposals."""
    return [*projects, *request.proposals]


def eligible_new_projects(
    projects: Sequence[AnyProject], request: AllocationRequest
) -> list[AnyProject]:
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
    projects_by_id: Mapping[str, AnyProject], request: AllocationRequest
) -> dict[str, float]:
    """Committed projects whose clusters are all still open (project id → fraction)."""
    open_clusters = request.eligible_clusters
    return {
        pid: fraction
        for pid, fraction in request.commitments
        if open_clusters.issuperset(projects_by_id[pid].clusters)
    }


def problem_key(
    projects: Sequence[AnyProject], request: AllocationRequest, *, weights: bool
) -> Hashable:
    """A canonical key of the request's problem over ``projects``: requests with equal keys
    have the same program (and the same proportional split).

    It holds the year, the budget, and for each project that takes part (live
    commitments in the request's order, then the eligible new projects in pool order,
    as the allocators take them) what the program uses of it: its data, its committed
    fraction (``None`` for a new start), whether that commitment was cut this year (a cut
    one is paid a share even in binary mode) and, with ``weights``, how many of its clusters
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
    cut = {c.project for c in request.cuts}
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
            fraction is not None and p.id in cut,
        )
        for p, fraction in taking_part
    )
    nothing = not taking_part and not request.commitments
    return (request.year, request.budget, entries, nothing)


def commitments_cost(
    fractions: Mapping[str, float], projects_by_id: Mapping[str, AnyProject]
) -> float:
    """What ``fractions`` (project id → fraction) cost this year (MSEK), summed in their order."""
    return sum(projects_by_id[pid].cost_per_year * f for pid, f in fractions.items())


def cluster_money(
    fractions: Mapping[str, float], projects_by_id: Mapping[str, AnyProject]
) -> dict[str, float]:
    """Money reaching each cluster from ``fractions``, as the cluster cap counts it (a
    project's money split equally among its clusters)."""
    money: dict[str, float] = {}
    for pid, fraction in fractions.items():
        project = projects_by_id[pid]
        each = project.cost_per_year / len(project.clusters)
        for c in project.clusters:
            money[c] = money.get(c, 0.0) + each * fraction
    return money


def commitments_fit(
    fractions: Mapping[str, float],
    projects_by_id: Mapping[str, AnyProject],
    budget: float,
    cluster_cap_share: float = 1.0,
) -> bool:
    """Whether ``fractions`` cost at most ``budget`` and, with a cap below 1, bring no
    cluster more than ``cluster_cap_share * budget``."""
    if commitments_cost(fractions, projects_by_id) > budget:
        return False
    if cluster_cap_share >= 1.0:
        return True
    limit = cluster_cap_share * budget
    return all(m <= limit for m in cluster_money(fractions, projects_by_id).values())


MAX_ROUNDING_STEPS = 1000
"""How many ulps :func:`cut_commitments` lowers a share that the floats let overshoot."""


def cut_commitments(
    committed: Mapping[str, float],
    projects_by_id: Mapping[str, AnyProject],
    budget: float,
    cluster_cap_share: float = 1.0,
) -> dict[str, float]:
    """What each commitment (project id → contracted fraction) is paid this year: pro rata.

    When the commitments fit the year (:func:`commitments_fit`: the budget, and each
    cluster's cap when it is below 1) each is paid its contract. Otherwise every
    commitment is paid the same share ``s`` of its contracted fraction, the largest
    that fits: ``s = min(budget / committed cost, min over clusters of cap * budget /
    committed money reaching the cluster)`` (lowered by a rounding step or two when the
    floats would overshoot, so the cut commitments never cost more than the budget).
    A budget of 0 pays nothing.

    Why pro rata: every running contract was approved under the same rules, so under
    a cut each keeps the same share of its contract (the ratios between commitments stay
    as they were), whatever its start year or id; nothing depends on an order among the
    many projects that start in the same year, and it is the rule the proportional
    allocator always had. One share for all also keeps a cluster's cap: the cut
    scales the money reaching every cluster alike.
    """
    if commitments_fit(committed, projects_by_id, budget, cluster_cap_share):
        return dict(committed)
    share = min(1.0, budget / commitments_cost(committed, projects_by_id))
    if cluster_cap_share < 1.0:
        limit = cluster_cap_share * budget
        for money in cluster_money(committed, projects_by_id).values():
            if money > limit:
                share = min(share, limit / money)
    paid = {pid: f * share for pid, f in committed.items()}
    for _ in range(MAX_ROUNDING_STEPS):  # float rounding overshot by an ulp or so
        if commitments_fit(paid, projects_by_id, budget, cluster_cap_share):
            return paid
        share = math.nextafter(share, 0.0)
        paid = {pid: f * share for pid, f in committed.items()}
    return dict.fromkeys(committed, 0.0)  # unreachable for a finite budget; never overspend


class ProportionalAllocator:
    """The simple rule: honour commitments, then fund every eligible new project at
    the same fraction ``f = min(1, remaining budget / total yearly cost of eligible projects)``.

    When the budget cannot cover the commitments, they are cut pro rata
    (:func:`cut_commitments`, the rule :class:`CommitmentBook` applies before any
    allocator) and nothing new starts. It has no cluster cap.
    """

    cluster_cap_share = 1.0
    """No cap: the proportional split ignores clusters."""

    def __init__(self, projects: Sequence[AnyProject]) -> None:
        self.projects = list(projects)

    def problem_key(self, request: AllocationRequest) -> Hashable:
        """What the split depends on (see :func:`problem_key`; clusters at risk do not count)."""
        return problem_key(self.projects, request, weights=False)

    def allocate(self, request: AllocationRequest) -> Allocation:
        """Allocate one year's arena money by the proportional rule."""
        pool = request_pool(self.projects, request)
        by_id = {p.id: p for p in pool}
        committed = live_commitments(by_id, request)
        paid = cut_commitments(committed, by_id, request.budget)
        cut = {c.project for c in request.cuts}
        if paid != committed or not cut.isdisjoint(committed):  # no money left after the cut
            return Allocation(request.year, paid)
        remaining = request.budget - commitments_cost(committed, by_id)
        new = eligible_new_projects(pool, request)
        total_cost = sum(p.cost_per_year for p in new)
        fractions = dict(committed)
        if total_cost > 0 and remaining > 0:
            share = min(1.0, remaining / total_cost)
            fractions.update({p.id: share for p in new})
        return Allocation(request.year, fractions)

    def allocate_all(self, requests: Sequence[AllocationRequest]) -> list[Allocation]:
        """Each request's :meth:`allocate`."""
        return [self.allocate(request) for request in requests]


MEMO_ENTRIES = 20_000
"""Problems a memo keeps (the oldest go first): about 100 MiB, whatever the ensemble size."""


class MemoisedAllocator:
    """Wraps an allocator so requests with the same problem (``problem_key``) are solved once.

    It keeps the last ``max_entries`` problems solved (first in, first out), so its memory
    does not grow with the ensemble; a problem solved again gets the same answer, so
    what is forgotten changes no result.

    A request with open-call proposals is solved without a look-up. Proposals are drawn
    from each run's own random stream (costs and impacts to 3 decimals), so another run
    almost never asks the same problem: its key would cost about as much as formulating
    the program, for no hit. (Solving it again gives the same answer, so this changes
    how fast, never what.)
    """

    def __init__(self, inner: ArenaAllocator, max_entries: int = MEMO_ENTRIES) -> None:
        self.inner = inner
        self.max_entries = max_entries
        self.cache: dict[Hashable, Allocation] = {}
        self.hits = 0
        self.misses = 0
        self.own_runs = 0
        """Requests with open-call proposals (one run's own problem: solved, not looked up)."""

    @property
    def cluster_cap_share(self) -> float:
        """The inner allocator's cap."""
        return self.inner.cluster_cap_share

    def problem_key(self, request: AllocationRequest) -> Hashable:
        """The inner allocator's key."""
        return self.inner.problem_key(request)

    def allocate(self, request: AllocationRequest) -> Allocation:
        """The inner allocator's answer, from the cache when its problem was solved before."""
        return self.allocate_all([request])[0]

    def allocate_all(self, requests: Sequence[AllocationRequest]) -> list[Allocation]:
        """The inner allocator's answers, each problem looked up in the cache (or among the
        requests before it) and the rest solved together, in one call to the inner allocator.

        The answers are those of asking one request at a time, and so are the hits and
        misses while the cache has room. Once it is full they may differ: asked one at a
        time, a problem solved early in the batch may push out one that a later request
        asks for (a miss, solved again); here every request is looked up first (a hit)."""
        answers: list[Allocation | None] = [None] * len(requests)
        solve: list[int] = []  # requests the inner allocator answers
        first_of: dict[Hashable, int] = {}  # a key's first request among those solved now
        same_as: list[tuple[int, int]] = []  # (request, the earlier request with its key)
        for i, request in enumerate(requests):
            if request.proposals:
                self.own_runs += 1
                solve.append(i)
                continue
            key = self.inner.problem_key(request)
            found = self.cache.get(key)
            if found is not None:
                self.hits += 1
                answers[i] = found
            elif key in first_of:
                self.hits += 1
                same_as.append((i, first_of[key]))
            else:
                self.misses += 1
                first_of[key] = i
                solve.append(i)
        solved = self.inner.allocate_all([requests[i] for i in solve])
        for i, allocation in zip(solve, solved, strict=True):
            answers[i] = allocation
        for key, i in first_of.items():  # the problems solved now, in the order first asked
            if len(self.cache) >= self.max_entries:
                del self.cache[next(iter(self.cache))]
            self.cache[key] = answers[i]
        for i, earlier in same_as:
            answers[i] = answers[earlier]
        return answers  # type: ignore[return-value]  # every request answered above


class CommitmentBook:
    """Which projects have started, when and at what fraction; turns a year into a request.

    A project started in year s at fraction f is committed at f through year
    ``s + duration - 1``; a started project cannot start again. Open-call proposals
    join the book (:meth:`add`); a request carries those it refers to.

    When a year's budget cannot cover the commitments (or they would bring a cluster
    more than its cap), the request cuts them pro rata (:func:`cut_commitments`) and
    lists the cuts. The cut is that year's payment only: the book keeps the contracted
    fraction, and later years pay it again while the project runs (its duration is not
    extended).

    Years are asked in increasing order (the same year may be asked again; an earlier one
    is refused): a request forgets the proposals no later year can refer to (lapsed
    unstarted, or started and run out), so each year's scan stays short. Only those
    proposals are forgotten: every project stays known, for the durations of the running.
    """

    def __init__(self, projects: Sequence[AnyProject]) -> None:
        self.projects = {p.id: p for p in projects}
        self.started: dict[str, tuple[int, float]] = {}
        self.proposals: dict[str, AnyProject] = {}
        self.last_year: int | None = None
        """The latest year asked (an earlier one would need proposals already forgotten)."""

    def add(self, projects: Sequence[AnyProject]) -> None:
        """Open-call proposals join the book."""
        self.projects.update((p.id, p) for p in projects)
        self.proposals.update((p.id, p) for p in projects)

    def request(
        self,
        year: int,
        budget: float,
        open_clusters: frozenset[str],
        at_risk: frozenset[str],
        cluster_cap_share: float = 1.0,
    ) -> AllocationRequest:
        """The allocation request for ``year`` given what has started before it, with the
        proposals still running (committed) or still able to start, and the commitments
        cut to fit ``budget`` and ``cluster_cap_share`` (the allocator's cap) where they
        do not."""
        if self.last_year is not None and year < self.last_year:
            raise ValueError(
                f"a commitment book asked for {year} after {self.last_year}: years go forward"
            )
        self.last_year = year
        running = sorted(
            (pid, fraction)
            for pid, (began, fraction) in self.started.items()
            if began + self.projects[pid].duration > year
        )
        committed = {pid for pid, _ in running}
        live = {  # commitments with a closed cluster are not paid at all
            pid: fraction
            for pid, fraction in running
            if open_clusters.issuperset(self.projects[pid].clusters)
        }
        paid = cut_commitments(live, self.projects, budget, cluster_cap_share)
        cuts = tuple(CommitmentCut(pid, f, paid[pid]) for pid, f in live.items() if paid[pid] < f)
        commitments = tuple(
            (pid, paid.get(pid, fraction))
            for pid, fraction in running
            if paid.get(pid, fraction) > 0
        )
        proposals = []
        for pid, p in list(self.proposals.items()):
            if pid in committed:
                proposals.append(p)
            elif pid in self.started or (p.latest_start is not None and p.latest_start < year):
                del self.proposals[pid]  # run out, or lapsed unstarted: no later year needs it
            elif p.earliest_start <= year:
                proposals.append(p)
        return AllocationRequest(
            year,
            budget,
            open_clusters,
            at_risk,
            commitments,
            frozenset(self.started),
            tuple(proposals),
            cuts,
        )

    def record(self, allocation: Allocation) -> None:
        """Note the projects that start in the allocation's year."""
        for pid, fraction in sorted(allocation.fractions.items()):
            if fraction > 0:
                self.started.setdefault(pid, (allocation.year, fraction))
