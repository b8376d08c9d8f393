"""Region Skåne's programme office as a SimPy process, deciding the same year in a batch of runs."""

from __future__ import annotations

from collections.abc import Generator, Sequence

import numpy as np
import simpy

from simulator.allocation import Allocation, ArenaAllocator, CommitmentBook, CommitmentCut
from simulator.calls import CallTables, draw_call
from simulator.cluster import Announcements, ClusterBatch, YearFunding
from simulator.members import Members
from simulator.planning import allocation_steps
from simulator.records import AllocationRow, Event
from simulator.scenario import CLUSTER_SEPARATOR, AnyProject, Scenario
from simulator.schedules import base_value, rule_in_year, schedule_value


def programme_office(
    env: simpy.Environment,
    scenario: Scenario,
    clusters: Sequence[ClusterBatch],
    allocator: ArenaAllocator,
    announcements: Announcements,
    allocations: list[list[AllocationRow]],
    events: list[list[Event]],
    calls_rngs: Sequence[np.random.Generator] | None = None,
) -> Generator:
    """Each year, in every run: set every open cluster's regional base from its schedule
    (or its funding rule, from the cluster's books of the year before), set the arena
    budget, ask the allocator to split it over the eligible projects, and pay out. The
    allocator is asked once a year for every run (:func:`simulator.planning.allocation_steps`),
    after every run's open-call proposals are drawn; each run's answer is the one its own
    request gets alone.

    A funded project's money (fraction × yearly cost) is split equally between its
    clusters. A project started in year s at fraction f stays committed at f for its
    duration, as long as all its clusters are open; it cannot be started again.

    With open calls, each year's proposals (from the clusters open that year, drawn
    from the run's ``calls_rngs``) join the run's pool before the allocation; they reach
    the allocator inside the run's request, so one allocator serves every run.

    At the start of each year the members transferring from clusters closed the year
    before join the open clusters (``place_transfers``), logged in ``events``.

    When the year's budget (or a cluster cap) cannot cover the commitments, they are cut
    pro rata before the allocation (:func:`simulator.allocation.cut_commitments`), and
    each cut is logged in ``events`` (:func:`cut_events`).
    """
    runs = len(allocations)
    ids = [cluster.id for cluster in clusters]
    pools = [{p.id: p for p in scenario.projects} for _ in range(runs)]
    books = [CommitmentBook(scenario.projects) for _ in range(runs)]
    start = scenario.programme.start_year
    use_at_risk = scenario.allocator.at_risk_weight != 1.0
    cluster_sets = ClusterSets(ids)
    call_tables = CallTables(scenario.open_calls) if scenario.open_calls is not None else None
    for year in scenario.years:
        closed = np.column_stack([cluster.closed for cluster in clusters])
        place_transfers(scenario, clusters, closed, year, events)
        at_risk = np.column_stack([cluster.at_risk for cluster in clusters]) & ~closed
        budget = schedule_value(scenario.arena.budget, year, start)
        money = np.zeros((runs, len(ids)))
        taking_part = np.zeros((runs, len(ids)))
        payouts = Payouts(year, ids)
        open_ids = [cluster_sets.of(~closed[r]) for r in range(runs)]
        risky = [cluster_sets.of(at_risk[r]) if use_at_risk else frozenset() for r in range(runs)]
        if scenario.open_calls is not None and calls_rngs is not None:
            for r in range(runs):
                proposals = draw_call(
                    scenario.open_calls, year, sorted(open_ids[r]), calls_rngs[r], call_tables
                )
                if proposals:
                    pools[r].update((p.id, p) for p in proposals)
                    books[r].add(proposals)
        steps = allocation_steps(books, allocator, year, budget, open_ids, risky)
        for r, (request, allocation) in enumerate(steps):
            events[r].extend(cut_events(year, request.cuts, pools[r]))
            money[r], taking_part[r], rows = payouts.of(allocation, pools[r])
            allocations[r].extend(rows)
        regional_base = np.zeros((runs, len(ids)))
        for c, cluster in enumerate(clusters):
            regional_base[:, c] = regional_base_of(scenario, cluster, year, ~closed[:, c])
        announcements.announce(year, YearFunding(regional_base, money, taking_part))
        yield env.timeout(1)


def cut_events(
    year: int, cuts: Sequence[CommitmentCut], projects: dict[str, AnyProject]
) -> list[Event]:
    """One ``arena_cut <project> <contracted>-><paid>`` event (the project's fractions of its
    yearly cost, 6 decimals) per cut commitment and each of its clusters, by project id."""
    return [
        Event(year, cid, f"arena_cut {cut.project} {cut.contracted:.6f}->{cut.paid:.6f}")
        for cut in cuts
        for cid in projects[cut.project].clusters
    ]


class ClusterSets:
    """The ids of the clusters where a run's mask is true, as a frozenset (made once per mask)."""

    def __init__(self, ids: Sequence[str]) -> None:
        self.ids = list(ids)
        self.made: dict[bytes, frozenset[str]] = {}

    def of(self, mask: np.ndarray) -> frozenset[str]:
        """The clusters where ``mask`` (one bool per cluster) is true."""
        key = mask.tobytes()
        if key not in self.made:
            self.made[key] = frozenset(self.ids[c] for c in np.flatnonzero(mask))
        return self.made[key]


class Payouts:
    """A year's pay-outs (:func:`pay_out`, :func:`allocation_rows`), worked out once per
    allocation and funded projects: runs that share an answer (from a memoised allocator)
    over the same project objects share the result. The arrays and rows returned are
    shared between those runs: callers copy, never change them."""

    def __init__(self, year: int, cluster_ids: Sequence[str]) -> None:
        self.year = year
        self.cluster_ids = list(cluster_ids)
        self.made: dict[tuple, tuple[tuple, np.ndarray, np.ndarray, list[AllocationRow]]] = {}

    def of(
        self, allocation: Allocation, projects: dict[str, AnyProject]
    ) -> tuple[np.ndarray, np.ndarray, list[AllocationRow]]:
        """Money and funded fractions per cluster, and the allocation rows, of one run."""
        funded = tuple(projects[pid] for pid in allocation.fractions)
        key = (id(allocation), *map(id, funded))
        made = self.made.get(key)
        if made is None:  # the entry holds the allocation and the projects: no id is reused
            money, taking_part = np.zeros(len(self.cluster_ids)), np.zeros(len(self.cluster_ids))
            pay_out(allocation.fractions, projects, self.cluster_ids, money, taking_part)
            rows = allocation_rows(self.year, allocation.fractions, projects)
            made = self.made[key] = ((allocation, funded), money, taking_part, rows)
        return made[1], made[2], made[3]


def pay_out(
    fractions: dict[str, float],
    projects: dict[str, AnyProject],
    cluster_ids: Sequence[str],
    money: np.ndarray,
    taking_part: np.ndarray,
) -> None:
    """Add a run's funded projects to ``money`` (MSEK, split equally between a project's
    clusters) and ``taking_part`` (funded fractions), both per cluster, in place."""
    position = {cid: c for c, cid in enumerate(cluster_ids)}
    paid, parts = money.tolist(), taking_part.tolist()  # Python floats: the same sums, faster
    for pid, fraction in sorted(fractions.items()):
        if fraction <= 0:
            continue
        project = projects[pid]
        funded = fraction * project.cost_per_year
        for cid in project.clusters:
            c = position[cid]
            paid[c] += funded / len(project.clusters)
            parts[c] += fraction
    money[:], taking_part[:] = paid, parts


def allocation_rows(
    year: int, fractions: dict[str, float], projects: dict[str, AnyProject]
) -> list[AllocationRow]:
    """One row per project funded in ``year``, in project id order."""
    return [
        AllocationRow(
            year,
            pid,
            projects[pid].area,
            CLUSTER_SEPARATOR.join(projects[pid].clusters),
            fraction * projects[pid].cost_per_year,
            projects[pid].cost_per_year,
            fraction,
        )
        for pid, fraction in sorted(fractions.items())
        if fraction > 0
    ]


def regional_base_of(
    scenario: Scenario, cluster: ClusterBatch, year: int, is_open: np.ndarray
) -> np.ndarray:
    """A cluster's regional base in ``year`` in every run (0 where it is closed), by
    :func:`simulator.schedules.base_value`: asked once when the schedule sets the amount,
    run by run (with that run's books) when a funding rule does."""
    schedule = scenario.base_schedule(cluster.id)
    start = scenario.programme.start_year
    books = cluster.books
    if rule_in_year(schedule, year, start) is None or books is None:
        return np.where(is_open, base_value(schedule, year, start, None), 0.0)
    amounts = np.zeros(len(is_open))
    for r in np.flatnonzero(is_open):
        amounts[r] = base_value(schedule, year, start, books.of_run(r))
    return amounts


def transfer_weights(scenario: Scenario, source: str, targets: list[str]) -> np.ndarray:
    """Probability that a member of closing ``source`` joins each of ``targets``: the
    open-call affinity of the pair (``default_affinity`` if not listed) when open calls
    are configured and some weight is positive, else equal."""
    calls = scenario.open_calls
    weights = np.ones(len(targets))
    if calls is not None:
        affinity = np.array([calls.affinity_of(source, t) for t in targets], dtype=float)
        if affinity.sum() > 0:
            weights = affinity
    return weights / weights.sum()


def place_transfers(
    scenario: Scenario,
    clusters: Sequence[ClusterBatch],
    closed: np.ndarray,
    year: int,
    events: list[list[Event]],
) -> None:
    """Hand the members waiting in closed clusters to the open ones, run by run.

    In a run, member i of closed cluster s goes to target ``j = searchsorted(cumsum(w),
    u_i)`` among the clusters open in that run (sorted by id), ``w = transfer_weights(s,
    open)``, ``u_i`` the uniform the closing cluster drew from the run's rng. Logged as
    ``transfer_out N`` (source) and ``transfer_in n from s`` (each target), in ``year``.
    With no cluster open, the members leave.
    """
    by_id = {cluster.id: c for c, cluster in enumerate(clusters)}
    for source in sorted(by_id):
        agent = clusters[by_id[source]]
        moving, agent.transferring = agent.transferring, Members.none(agent.runs)
        if not len(moving):
            continue
        counts = moving.count
        first = np.cumsum(counts) - counts
        # each moving member's target (position in ``clusters``; -1: none open, it leaves)
        target_of = np.full(len(moving), -1)
        destinations: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
        for r in np.flatnonzero(counts).tolist():
            is_open = ~closed[r]
            if not is_open.any():
                continue
            key = is_open.tobytes()
            if key not in destinations:
                destinations[key] = _destinations(scenario, source, by_id, is_open)
            positions, cumulative = destinations[key]
            rows = slice(first[r], first[r] + counts[r])
            chosen = np.searchsorted(cumulative, agent.transfer_draws[rows], side="right")
            target_of[rows] = positions[chosen]
            _log_transfers(events[r], year, source, clusters, target_of[rows], positions)
        for target in np.unique(target_of[target_of >= 0]).tolist():
            clusters[target].receive(moving.keep(target_of == target), year)


def _destinations(
    scenario: Scenario, source: str, by_id: dict[str, int], is_open: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where a member of ``source`` may go when the clusters ``is_open`` are open: their
    positions (sorted by id) and the cumulative transfer weights."""
    open_ids = sorted(cid for cid in by_id if is_open[by_id[cid]])
    cumulative = np.cumsum(transfer_weights(scenario, source, open_ids))
    cumulative[-1] = 1.0
    return np.array([by_id[cid] for cid in open_ids]), cumulative


def _log_transfers(
    events: list[Event],
    year: int,
    source: str,
    clusters: Sequence[ClusterBatch],
    targets: np.ndarray,
    positions: np.ndarray,
) -> None:
    """A run's ``transfer_out N`` (source) and ``transfer_in n from s`` (each target, by id)."""
    events.append(Event(year, source, f"transfer_out {len(targets)}"))
    arrived = np.bincount(targets, minlength=len(clusters))
    for position in positions.tolist():
        if arrived[position]:
            events.append(
                Event(year, clusters[position].id, f"transfer_in {arrived[position]} from {source}")
            )
