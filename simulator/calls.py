"""Open calls: the collaboration proposals that arrive each year after the shipped pool."""

from __future__ import annotations

from itertools import combinations

import numpy as np

from simulator.scenario import AREAS, Area, CallArea, OpenCalls, Proposal


def pair_weights(calls: OpenCalls, clusters: list[str]) -> tuple[list[tuple[str, str]], np.ndarray]:
    """Every unordered pair of ``clusters`` and its probability of forming a proposal."""
    pairs = list(combinations(clusters, 2))
    weights = np.array([calls.affinity_of(a, b) for a, b in pairs], dtype=float)
    total = weights.sum()
    return pairs, weights / total if total > 0 else weights


class CallTables:
    """What every year's draw of one set of open calls reads, made once: the areas the calls
    name (in ``AREAS`` order) with their ranges as arrays, and per set of open clusters its
    pairs and their cumulative draw probabilities (a year's calls in many runs mostly see
    the same few sets)."""

    def __init__(self, calls: OpenCalls) -> None:
        self.calls = calls
        specs = [(area, calls.areas[area]) for area in AREAS if area in calls.areas]
        self.areas: tuple[Area, ...] = tuple(area for area, _ in specs)
        self.expected: list[float] = [spec.proposals_per_year for _, spec in specs]
        """Expected proposals a year, per area."""
        self.ranges = np.array([_lows_and_widths(spec) for _, spec in specs], dtype=float).T
        """Per area (columns), the low end and width of each drawn range (rows, as
        :func:`_lows_and_widths` gives them)."""
        self.made: dict[tuple[str, ...], tuple[list[tuple[str, str]], np.ndarray | None]] = {}

    def pairs_of(self, open_clusters: list[str]) -> tuple[list[tuple[str, str]], np.ndarray | None]:
        """The pairs of ``open_clusters`` (sorted) and their cdf (``None``: no pair can form)."""
        key = tuple(sorted(open_clusters))
        if key not in self.made:
            pairs, probability = pair_weights(self.calls, list(key))
            if not pairs or probability.sum() == 0:
                self.made[key] = (pairs, None)
            else:
                cumulative = probability.cumsum()
                cumulative /= cumulative[-1]
                self.made[key] = (pairs, cumulative)
        return self.made[key]


def _lows_and_widths(spec: CallArea) -> tuple[float, ...]:
    """The low end and the width of each range a proposal of ``spec`` is drawn from, in turn:
    cost, co-funding ratio, duration (its width: the number of whole years it can take) and
    impact."""
    cost = (spec.cost_min, spec.cost_max - spec.cost_min)
    ratio = (spec.cofunding_ratio_min, spec.cofunding_ratio_max - spec.cofunding_ratio_min)
    duration = (spec.duration_min, spec.duration_max - spec.duration_min + 1)
    impact = (spec.impact_min, spec.impact_max - spec.impact_min)
    return (*cost, *ratio, *duration, *impact)


def draw_call(
    calls: OpenCalls,
    year: int,
    open_clusters: list[str],
    rng: np.random.Generator,
    tables: CallTables | None = None,
) -> list[Proposal]:
    """One year's proposals from the open clusters, area by area (in ``AREAS`` order),
    numbered from 1 in each area.

    The draws, in this order: each area's number of proposals, ``Poisson(proposals_per_year)``;
    then, as one ``5 × n`` block of uniforms ``u`` in [0, 1) over the year's ``n``
    proposals, each proposal's pair of open clusters (the first pair whose cumulative
    affinity share exceeds ``u``: ``Generator.choice``'s pick with the pairs' weights),
    cost, co-funding ratio, duration and impact. A range ``[low, high]`` gives
    ``low + (high - low) * u``; a duration is ``duration_min + floor(k * u)`` with ``k``
    the number of whole years it can take, each as likely. Costs, co-funding
    (the rounded cost × the ratio) and impacts are rounded to 3 decimals by Python's
    ``round``, as the per-proposal draw before rounded them. A proposal may start only in
    its call year (``latest_start``). No proposals before ``from_year``, or when fewer
    than two clusters are open or every open pair has affinity 0. ``tables`` (optional)
    keeps what the draws share across years and runs.

    Every field is drawn inside the ranges of the validated :class:`CallArea`, so a
    proposal is always a valid project (a cost rounds to at least 0.001 MSEK, as
    ``cost_min >= 0.001``): a light :class:`Proposal`, not a validated :class:`Project`
    (a test validates drawn proposals as projects).
    """
    if year < calls.from_year:
        return []
    if tables is None:
        tables = CallTables(calls)
    elif tables.calls is not calls:
        raise ValueError("draw_call's tables were made for other open calls")
    pairs, cumulative = tables.pairs_of(open_clusters)
    if cumulative is None:
        return []
    poisson = rng.poisson
    counts = [int(poisson(expected)) for expected in tables.expected]
    total = sum(counts)
    if not total:
        return []
    area_of = np.repeat(np.arange(len(counts)), counts)
    cost_low, cost_span, ratio_low, ratio_span, shortest, lengths, impact_low, impact_span = (
        tables.ranges[:, area_of]
    )
    pair_u, cost_u, ratio_u, duration_u, impact_u = rng.random((5, total))
    cost = [round(c, 3) for c in (cost_low + cost_span * cost_u).tolist()]
    ratio = (ratio_low + ratio_span * ratio_u).tolist()
    duration = (shortest + np.floor(lengths * duration_u)).astype(np.int64).tolist()
    impact = (impact_low + impact_span * impact_u).tolist()
    picked = cumulative.searchsorted(pair_u, side="right").tolist()
    areas = tables.areas
    numbers = [number for count in counts for number in range(1, count + 1)]
    return [
        Proposal(  # by position, in the fields' order (keywords double the cost)
            f"call{year}_{areas[a]}_{n}",
            areas[a],
            pairs[i],
            c,
            d,
            year,
            round(c * r, 3),
            round(m, 3),
            False,
            year,
        )
        for a, n, i, c, r, d, m in zip(
            area_of.tolist(), numbers, picked, cost, ratio, duration, impact, strict=True
        )
    ]
