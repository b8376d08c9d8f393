"""Region Skåne's programme office as a SimPy process."""

from __future__ import annotations

from collections.abc import Generator, Mapping

import numpy as np
import simpy

from simulator.allocation import Allocation, ArenaAllocator, CommitmentBook
from simulator.calls import PAIR_SEPARATOR, draw_call
from simulator.cluster import Announcements, ClusterAgent, YearFunding
from simulator.scenario import Scenario
from simulator.schedules import base_value, schedule_value

ALLOCATION_COLUMNS = ("year", "project", "area", "clusters", "funded", "cost", "fraction")
PROJECT_CLUSTER_SEPARATOR = ";"


def programme_office(
    env: simpy.Environment,
    scenario: Scenario,
    clusters: Mapping[str, ClusterAgent],
    allocator: ArenaAllocator,
    announcements: Announcements,
    allocation_rows: list[tuple],
    calls_rng: np.random.Generator | None = None,
    events: list[tuple[int, str, str]] | None = None,
) -> Generator:
    """Each year: set every open cluster's regional base from its schedule (or its funding
    rule, from the cluster's books of the year before), set the arena
    budget, ask the allocator to split it over the eligible projects, and pay out.

    A funded project's money (fraction × yearly cost) is split equally between its
    clusters. A project started in year s at fraction f stays committed at f for its
    duration, as long as all its clusters are open; it cannot be started again.

    With open calls, each year's proposals (from the clusters open that year, drawn
    from ``calls_rng``) join the pool before the allocation; they reach the allocator
    in the request (``book`` keeps those still committed).

    At the start of each year the members transferring from clusters closed the year
    before join the open clusters (``place_transfers``), logged in ``events``.
    """
    projects = {p.id: p for p in scenario.projects}
    book = CommitmentBook(scenario.projects)
    start = scenario.programme.start_year
    use_at_risk = scenario.allocator.at_risk_weight != 1.0
    for year in scenario.years:
        open_ids = frozenset(cid for cid, agent in clusters.items() if not agent.closed)
        place_transfers(scenario, clusters, sorted(open_ids), year, events)
        at_risk = (
            frozenset(cid for cid in open_ids if clusters[cid].at_risk)
            if use_at_risk
            else frozenset()
        )
        if scenario.open_calls is not None and calls_rng is not None:
            proposals = draw_call(scenario.open_calls, year, sorted(open_ids), calls_rng)
            if proposals:
                projects.update((p.id, p) for p in proposals)
                book.add(proposals)
        budget = schedule_value(scenario.arena.budget, year, start)
        request = book.request(year, budget, open_ids, at_risk)
        allocation = (
            allocator.allocate(request)
            if budget > 0 or request.commitments
            else Allocation(year, {})
        )
        book.record(allocation)
        money = dict.fromkeys(clusters, 0.0)
        taking_part = dict.fromkeys(clusters, 0.0)
        for pid, fraction in sorted(allocation.fractions.items()):
            if fraction <= 0:
                continue
            project = projects[pid]
            funded = fraction * project.cost_per_year
            for cid in project.clusters:
                money[cid] += funded / len(project.clusters)
                taking_part[cid] += fraction
            allocation_rows.append(
                (
                    year,
                    pid,
                    project.area,
                    PROJECT_CLUSTER_SEPARATOR.join(project.clusters),
                    funded,
                    project.cost_per_year,
                    fraction,
                )
            )
        funding = {
            cid: YearFunding(
                0.0
                if cid not in open_ids
                else base_value(scenario.base_schedule(cid), year, start, clusters[cid].books),
                money[cid],
                taking_part[cid],
            )
            for cid in clusters
        }
        announcements.announce(year, funding)
        yield env.timeout(1)


def transfer_weights(scenario: Scenario, source: str, targets: list[str]) -> np.ndarray:
    """Probability that a member of closing ``source`` joins each of ``targets``: the
    open-call affinity of the pair (``default_affinity`` if not listed) when open calls
    are configured and some weight is positive, else equal."""
    calls = scenario.open_calls
    weights = np.ones(len(targets))
    if calls is not None:
        affinity = np.array(
            [
                calls.affinity.get(
                    f"{source}{PAIR_SEPARATOR}{t}",
                    calls.affinity.get(f"{t}{PAIR_SEPARATOR}{source}", calls.default_affinity),
                )
                for t in targets
            ],
            dtype=float,
        )
        if affinity.sum() > 0:
            weights = affinity
    return weights / weights.sum()


def place_transfers(
    scenario: Scenario,
    clusters: Mapping[str, ClusterAgent],
    open_ids: list[str],
    year: int,
    events: list[tuple[int, str, str]] | None,
) -> None:
    """Hand the members waiting in closed clusters to the open ones (``open_ids``, sorted).

    Member i of closed cluster s goes to target ``j = searchsorted(cumsum(w), u_i)``,
    ``w = transfer_weights(s, open_ids)``, ``u_i`` the uniform the closing cluster drew
    from the run's rng. Logged as ``transfer_out N`` (source) and ``transfer_in n from s``
    (each target), in ``year``. With no cluster open, the members leave.
    """
    for source in sorted(clusters):
        agent = clusters[source]
        moving, agent.transferring = agent.transferring, None
        if moving is None or not open_ids:
            continue
        cumulative = np.cumsum(transfer_weights(scenario, source, open_ids))
        cumulative[-1] = 1.0
        target_of = np.searchsorted(cumulative, agent.transfer_draws, side="right")
        if events is not None:
            events.append((year, source, f"transfer_out {len(moving)}"))
        for j, target in enumerate(open_ids):
            mask = target_of == j
            if mask.any():
                clusters[target].receive(moving.keep(mask), year)
                if events is not None:
                    events.append((year, target, f"transfer_in {int(mask.sum())} from {source}"))
