"""Open calls: the collaboration proposals that arrive each year after the shipped pool."""

from __future__ import annotations

from bisect import bisect_right
from itertools import combinations

import numpy as np

from simulator.scenario import AREAS, OpenCalls, Proposal


def pair_weights(calls: OpenCalls, clusters: list[str]) -> tuple[list[tuple[str, str]], np.ndarray]:
    """Every unordered pair of ``clusters`` and its probability of forming a proposal."""
    pairs = list(combinations(clusters, 2))
    weights = np.array([calls.affinity_of(a, b) for a, b in pairs], dtype=float)
    total = weights.sum()
    return pairs, weights / total if total > 0 else weights


class PairTable:
    """The pairs of each set of open clusters and their cumulative draw probabilities, made
    once per set (a year's calls in many runs mostly see the same few sets)."""

    def __init__(self, calls: OpenCalls) -> None:
        self.calls = calls
        self.made: dict[tuple[str, ...], tuple[list[tuple[str, str]], list[float] | None]] = {}

    def of(self, open_clusters: list[str]) -> tuple[list[tuple[str, str]], list[float] | None]:
        """The pairs of ``open_clusters`` (sorted) and their cdf (``None``: no pair can form)."""
        key = tuple(sorted(open_clusters))
        if key not in self.made:
            pairs, probability = pair_weights(self.calls, list(key))
            if not pairs or probability.sum() == 0:
                self.made[key] = (pairs, None)
            else:
                # what Generator.choice(len(pairs), p=probability) does, with the cdf made
                # once: one uniform a pair, the same draws and the same pairs
                cumulative = probability.cumsum()
                cumulative /= cumulative[-1]
                self.made[key] = (pairs, cumulative.tolist())
        return self.made[key]


def draw_call(
    calls: OpenCalls,
    year: int,
    open_clusters: list[str],
    rng: np.random.Generator,
    pair_table: PairTable | None = None,
) -> list[Proposal]:
    """One year's proposals, area by area (in ``AREAS`` order), from the open clusters.

    Per area: ``n ~ Poisson(proposals_per_year)``; per proposal, drawn in this order, a
    pair of open clusters by affinity (as ``Generator.choice`` with the pairs' weights
    draws it), the cost and the co-funding ratio uniform in their ranges, a whole number
    of years uniform in the duration range, and the impact uniform in its range. A
    proposal may start only in its call year (``latest_start``). No proposals before
    ``from_year``, or when fewer than two clusters are open or every open pair has
    affinity 0. ``pair_table`` (optional) keeps the pairs' cdf across calls.

    Every field is drawn inside the ranges of the validated :class:`CallArea`, so a
    proposal is always a valid project (a cost rounds to at least 0.001 MSEK, as
    ``cost_min >= 0.001``): a light :class:`Proposal`, not a validated :class:`Project`
    (a test validates drawn proposals as projects).
    """
    if year < calls.from_year:
        return []
    if pair_table is None:
        pair_table = PairTable(calls)
    elif pair_table.calls is not calls:
        raise ValueError("draw_call's pair_table was made for other open calls")
    pairs, cumulative = pair_table.of(open_clusters)
    if cumulative is None:
        return []
    proposals = []
    random, integers = rng.random, rng.integers
    for area in AREAS:
        spec = calls.areas.get(area)
        if spec is None:
            continue
        # uniform(low, high) as numpy computes it, low + (high - low) * random(), a third
        # of the cost of rng.uniform
        cost_low, cost_span = spec.cost_min, spec.cost_max - spec.cost_min
        ratio_low = spec.cofunding_ratio_min
        ratio_span = spec.cofunding_ratio_max - ratio_low
        impact_low, impact_span = spec.impact_min, spec.impact_max - spec.impact_min
        duration_low, duration_high = spec.duration_min, spec.duration_max + 1
        for number in range(1, int(rng.poisson(spec.proposals_per_year)) + 1):
            pair = pairs[bisect_right(cumulative, random())]
            cost = round(cost_low + cost_span * random(), 3)
            ratio = ratio_low + ratio_span * random()
            duration = int(integers(duration_low, duration_high))
            impact = round(impact_low + impact_span * random(), 3)
            proposals.append(
                Proposal(  # by position, in the fields' order (keywords double the cost)
                    f"call{year}_{area}_{number}",
                    area,
                    pair,
                    cost,
                    duration,
                    year,
                    round(cost * ratio, 3),
                    impact,
                    False,
                    year,
                )
            )
    return proposals
