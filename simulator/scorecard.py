"""The seed's measurable targets, scored for one run, year by year.

Label proxies (Gold/Silver) are *proxies* from configurable thresholds, not the
official ECEI audit.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np

from simulator.cluster import CLOSED, YEARLY_COLUMNS
from simulator.office import PROJECT_CLUSTER_SEPARATOR
from simulator.scenario import Scenario

TARGETS: tuple[tuple[str, str], ...] = (
    ("members_min", "every cluster has at least min_members members"),
    (
        "business_financed_base",
        "every cluster's regional share of income at most max_regional_share",
    ),
    (
        "growth_areas",
        "growth areas seeded by funded cross-cluster projects, counted since the start",
    ),
    ("collaboration_links", "distinct cluster pairs in projects funded that year"),
    (
        "label_gold_silver_proxy",
        "at least min_gold Gold proxies, every other cluster Silver (proxy, not the ECEI audit)",
    ),
    ("no_closures", "no cluster has closed"),
)
PER_CLUSTER_TARGETS: tuple[tuple[str, str], ...] = (
    ("cluster_members_min", "this cluster has at least min_members members"),
    (
        "cluster_business_financed",
        "this cluster's regional share of income at most max_regional_share",
    ),
)


def scorecard_targets(scenario: Scenario) -> list[tuple[str, str]]:
    """(name, description) of every scored target: the programme-wide ones, then one per
    cluster for the member target and the business-financed base (``name:cluster_id``)."""
    per_cluster = [
        (f"{name}:{cid}", f"{description} ({cluster.name})")
        for name, description in PER_CLUSTER_TARGETS
        for cid, cluster in scenario.clusters.items()
    ]
    return [*TARGETS, *per_cluster]


_COL = {name: i for i, name in enumerate(YEARLY_COLUMNS)}


def scored_years(scenario: Scenario) -> list[int]:
    """The years the scorecard covers: the target year and every later year."""
    return [y for y in scenario.years if y >= scenario.programme.target_year]


def score_run(
    scenario: Scenario, yearly_rows: Sequence[tuple], allocation_rows: Sequence[tuple]
) -> tuple[np.ndarray, np.ndarray]:
    """(met, value) arrays of shape (scored years, targets) for one run, targets in
    the order of :func:`scorecard_targets`.

    ``value`` is what is counted (clusters meeting the member target, growth
    areas, links, Gold proxies, a cluster's members or regional share ...); ``met``
    says whether the target is reached. A closed cluster meets no per-cluster target.
    """
    card = scenario.scorecard
    years = scored_years(scenario)
    n_clusters = len(scenario.clusters)
    growth_seed = {p.id for p in scenario.projects if p.growth_seed}
    min_fraction = scenario.allocator.min_cover_fraction
    by_year: dict[int, list[tuple]] = {}
    for row in yearly_rows:
        by_year.setdefault(row[_COL["year"]], []).append(row)
    seeded: set[str] = set()
    links_by_year: dict[int, set[tuple[str, str]]] = {}
    for year, pid, _area, clusters, _funded, _cost, fraction in allocation_rows:
        if fraction + 1e-9 < min_fraction:
            continue
        if pid in growth_seed:
            seeded.add((year, pid))
        pairs = combinations(sorted(clusters.split(PROJECT_CLUSTER_SEPARATOR)), 2)
        links_by_year.setdefault(year, set()).update(pairs)
    cluster_ids = list(scenario.clusters)
    n_targets = len(TARGETS) + len(PER_CLUSTER_TARGETS) * n_clusters
    met = np.zeros((len(years), n_targets), dtype=bool)
    value = np.zeros((len(years), n_targets))
    for i, year in enumerate(years):
        rows = by_year.get(year, [])
        open_rows = [r for r in rows if r[_COL["status"]] != CLOSED]
        members_ok = sum(r[_COL["members"]] >= card.min_members for r in open_rows)
        share_ok = sum(r[_COL["regional_share"]] <= card.max_regional_share for r in open_rows)
        growth = len({pid for y, pid in seeded if y <= year})
        links = len(links_by_year.get(year, ()))
        gold = sum(
            r[_COL["members"]] >= card.gold_min_members
            and r[_COL["regional_share"]] <= card.gold_max_regional_share
            and r[_COL["reserves"]] >= card.gold_min_reserve_years * r[_COL["costs"]]
            for r in open_rows
        )
        closures = n_clusters - len(open_rows)
        first = len(TARGETS)
        for row in open_rows:
            c = cluster_ids.index(row[_COL["cluster"]])
            members, share = row[_COL["members"]], row[_COL["regional_share"]]
            value[i, first + c] = members
            met[i, first + c] = members >= card.min_members
            value[i, first + n_clusters + c] = share
            met[i, first + n_clusters + c] = share <= card.max_regional_share
        value[i, :first] = (members_ok, share_ok, growth, links, gold, closures)
        met[i, :first] = (
            members_ok == n_clusters,
            share_ok == n_clusters,
            growth >= card.min_growth_areas,
            links >= card.min_collaboration_links,
            gold >= card.min_gold and members_ok == n_clusters,
            closures == 0,
        )
    return met, value
