"""Open calls: the collaboration proposals that arrive each year after the shipped pool."""

from __future__ import annotations

from itertools import combinations

import numpy as np

from simulator.scenario import AREAS, OpenCalls, Project


def pair_weights(calls: OpenCalls, clusters: list[str]) -> tuple[list[tuple[str, str]], np.ndarray]:
    """Every unordered pair of ``clusters`` and its probability of forming a proposal."""
    pairs = list(combinations(clusters, 2))
    weights = np.array([calls.affinity_of(a, b) for a, b in pairs], dtype=float)
    total = weights.sum()
    return pairs, weights / total if total > 0 else weights


def draw_call(
    calls: OpenCalls, year: int, open_clusters: list[str], rng: np.random.Generator
) -> list[Project]:
    """One year's proposals, area by area (in ``AREAS`` order), from the open clusters.

    Per area: ``n ~ Poisson(proposals_per_year)``; per proposal a pair of open clusters
    by affinity, then cost, impact and co-funding ratio uniform in their ranges and a
    whole number of years uniform in the duration range. A proposal may start only in
    its call year (``latest_start``). No proposals before ``from_year``, or when fewer
    than two clusters are open or every open pair has affinity 0.
    """
    if year < calls.from_year:
        return []
    pairs, probability = pair_weights(calls, sorted(open_clusters))
    if not pairs or probability.sum() == 0:
        return []
    # what Generator.choice(len(pairs), p=probability) does, with the cdf made once:
    # one uniform a pair, the same draws and the same pairs
    cumulative = probability.cumsum()
    cumulative /= cumulative[-1]
    proposals = []
    for area in AREAS:
        spec = calls.areas.get(area)
        if spec is None:
            continue
        for number in range(1, int(rng.poisson(spec.proposals_per_year)) + 1):
            pair = pairs[int(cumulative.searchsorted(rng.random(), side="right"))]
            cost = round(float(rng.uniform(spec.cost_min, spec.cost_max)), 3)
            ratio = float(rng.uniform(spec.cofunding_ratio_min, spec.cofunding_ratio_max))
            proposals.append(
                Project(
                    id=f"call{year}_{area}_{number}",
                    title=f"open call {year}, {area.replace('_', ' ')}, proposal {number}",
                    area=area,
                    clusters=list(pair),
                    cost_per_year=cost,
                    duration=int(rng.integers(spec.duration_min, spec.duration_max + 1)),
                    earliest_start=year,
                    latest_start=year,
                    cofunding_per_year=round(cost * ratio, 3),
                    impact=round(float(rng.uniform(spec.impact_min, spec.impact_max)), 3),
                )
            )
    return proposals
