"""The seed's measurable targets, scored for one run, year by year.

Label proxies (Gold/Silver) are *proxies* from configurable thresholds, not the
official ECEI audit.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from itertools import combinations

import numpy as np

from simulator.records import AllocationRow, YearlyTable
from simulator.scenario import CLUSTER_SEPARATOR, Scenario

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
CLUSTER_MEMBERS_MIN = "cluster_members_min"
"""The per-cluster member target (``cluster_members_min:<cluster>`` in the scorecard)."""
PER_CLUSTER_TARGETS: tuple[tuple[str, str], ...] = (
    (CLUSTER_MEMBERS_MIN, "this cluster has at least min_members members"),
    (
        "cluster_business_financed",
        "this cluster's regional share of income at most max_regional_share",
    ),
)


CLUSTER_TARGET_SEPARATOR = ":"
"""Joins a per-cluster target and its cluster: ``cluster_members_min:packbridge``."""


def cluster_target(target: str, cluster_id: str) -> str:
    """The scorecard name of a per-cluster target for one cluster."""
    return f"{target}{CLUSTER_TARGET_SEPARATOR}{cluster_id}"


def is_cluster_target(name: str) -> bool:
    """Whether a scorecard target is a per-cluster one."""
    return CLUSTER_TARGET_SEPARATOR in name


def target_cluster(name: str) -> str:
    """The cluster of a per-cluster scorecard target."""
    return name.split(CLUSTER_TARGET_SEPARATOR, 1)[1]


def is_member_target(name: str) -> bool:
    """Whether a scorecard target is some cluster's member target (``cluster_members_min``)."""
    target = name.split(CLUSTER_TARGET_SEPARATOR, 1)[0]
    return is_cluster_target(name) and target == CLUSTER_MEMBERS_MIN


def scorecard_targets(scenario: Scenario) -> list[tuple[str, str]]:
    """(name, description) of every scored target: the programme-wide ones, then one per
    cluster for the member target and the business-financed base (``name:cluster_id``)."""
    per_cluster = [
        (cluster_target(name, cid), f"{description} ({cluster.name})")
        for name, description in PER_CLUSTER_TARGETS
        for cid, cluster in scenario.clusters.items()
    ]
    return [*TARGETS, *per_cluster]


def scored_years(scenario: Scenario) -> list[int]:
    """The years the scorecard covers: the target year and every later year."""
    return [y for y in scenario.years if y >= scenario.programme.target_year]


def score_runs(
    scenario: Scenario, table: YearlyTable, allocations: Sequence[Sequence[AllocationRow]]
) -> tuple[np.ndarray, np.ndarray]:
    """(met, value) arrays of shape (runs, scored years, targets) for a batch of runs,
    targets in the order of :func:`scorecard_targets`.

    ``value`` is what is counted (clusters meeting the member target, growth
    areas, links, Gold proxies, a cluster's members or regional share ...); ``met``
    says whether the target is reached. A closed cluster meets no per-cluster target.
    """
    card = scenario.scorecard
    years = scored_years(scenario)
    at = [table.years.index(year) for year in years]
    is_open = ~table.closed()[:, at]
    members, share = table["members"][:, at], table["regional_share"][:, at]
    members_ok = is_open & (members >= card.min_members)
    share_ok = is_open & (share <= card.max_regional_share)
    gold = (
        is_open
        & (members >= card.gold_min_members)
        & (share <= card.gold_max_regional_share)
        & (table["reserves"][:, at] >= card.gold_min_reserve_years * table["costs"][:, at])
    )
    growth, links = project_counts(scenario, years, allocations)
    counts = {
        "members_min": members_ok.sum(axis=2),
        "business_financed_base": share_ok.sum(axis=2),
        "growth_areas": growth,
        "collaboration_links": links,
        "label_gold_silver_proxy": gold.sum(axis=2),
        "no_closures": len(table.clusters) - is_open.sum(axis=2),
    }
    reached = {
        "members_min": members_ok.all(axis=2),
        "business_financed_base": share_ok.all(axis=2),
        "growth_areas": growth >= card.min_growth_areas,
        "collaboration_links": links >= card.min_collaboration_links,
        "label_gold_silver_proxy": (counts["label_gold_silver_proxy"] >= card.min_gold)
        & members_ok.all(axis=2),
        "no_closures": counts["no_closures"] == 0,
    }
    names = [name for name, _ in TARGETS]
    value = np.concatenate(
        (
            np.stack([counts[name] for name in names], axis=2),
            np.where(is_open, members, 0),
            np.where(is_open, share, 0.0),
        ),
        axis=2,
    ).astype(float)
    met = np.concatenate(
        (np.stack([reached[name] for name in names], axis=2), members_ok, share_ok), axis=2
    )
    return met, value


def project_counts(
    scenario: Scenario, years: Sequence[int], allocations: Sequence[Sequence[AllocationRow]]
) -> tuple[np.ndarray, np.ndarray]:
    """Per run and scored year: growth areas seeded since the start (distinct growth-seed
    projects funded at least at ``min_cover_fraction`` up to that year), and distinct
    cluster pairs in projects so funded that year."""
    growth_seed = {p.id for p in scenario.projects if p.growth_seed}
    min_fraction = scenario.allocator.min_cover_fraction
    scored = set(years)
    growth = np.zeros((len(allocations), len(years)))
    links = np.zeros((len(allocations), len(years)))
    for r, rows in enumerate(allocations):
        first_seeded: dict[str, int] = {}
        links_by_year: dict[int, set[tuple[str, str]]] = {}
        for row in rows:
            if row.fraction + 1e-9 < min_fraction:
                continue
            if row.project in growth_seed and row.year < first_seeded.get(
                row.project, row.year + 1
            ):
                first_seeded[row.project] = row.year
            if row.year in scored:
                links_by_year.setdefault(row.year, set()).update(cluster_pairs(row.clusters))
        growth[r] = np.searchsorted(sorted(first_seeded.values()), years, side="right")
        links[r] = [len(links_by_year.get(year, ())) for year in years]
    return growth, links


@functools.lru_cache(maxsize=4096)
def cluster_pairs(clusters: str) -> tuple[tuple[str, str], ...]:
    """Every pair of a project's clusters (joined by ``CLUSTER_SEPARATOR``), each pair in
    sorted order (a repeated cluster gives repeated pairs; callers keep a set); computed
    once per distinct ``clusters``."""
    return tuple(combinations(sorted(clusters.split(CLUSTER_SEPARATOR)), 2))
