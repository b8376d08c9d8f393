"""A cluster's members in a batch of runs, and their yearly dynamics, one numpy call per mechanism.

All attributes of a member sit in one row of a 2-D float array, so that keeping
the members who renew or adding those who join is a single numpy operation,
whatever the number of attributes; the columns are named by the constants below.
A batch holds the members of several independent runs of the same cluster: a
parallel integer array says which run each member belongs to, and the rows are
kept sorted by run, each run's members in the order a one-run simulation would
have them (so a run's ``i``-th uniform of a draw goes to its ``i``-th member).

Randomness: each run keeps its own generator (``SeedSequence`` spawned per run).
A mechanism draws, run by run, exactly what a one-run simulation would draw from
that run's generator, and the draws are stacked into one array for the vectorised
update (:func:`per_run_uniforms`). So a run's numbers never depend on which other
runs share its batch, and a batch of one is the one-run model. We chose this over
a counter-based generator keyed by (run, year, cluster) because it keeps each
run's stream, and so its results, exactly as they were before batching. The price
is a few Python calls per run and cluster-year: the renewal draws, the joiners'
Poisson count, one call for the joiners' sizes and types together with every
member's arena draw (consecutive in the run's stream, so one ``random`` call gives
the same numbers as two), and the fee sum (:func:`segment_sums`). In a profile of
the model with the proportional allocator these are about a fifth of its time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from simulator.scenario import Cluster, MemberBehaviour

TIER, KIND, JOIN_YEAR, SATISFACTION, IN_ARENA, FEE = range(6)
"""Columns: size tier (0 small, 1 medium, 2 large), type (0 company, 1 academia,
2 public), join year, satisfaction (1 = as in the first year), arena participation
(0/1), fee at the base level (MSEK/year)."""
COLUMNS = ("tier", "kind", "join_year", "satisfaction", "in_arena", "fee")

ESTABLISHED_JOIN_OFFSET = 5
"""Starting members of an existing cluster count as having joined this many years
before the programme, so none of them is in its first year."""


@dataclass
class Members:
    """Members of one cluster in ``runs`` runs: ``data`` has one row per member (columns as
    ``COLUMNS``), ``run`` the run of each row; rows are sorted by run."""

    data: np.ndarray
    run: np.ndarray
    runs: int

    @classmethod
    def none(cls, runs: int) -> Members:
        """No members in any of ``runs`` runs."""
        return cls(np.empty((0, len(COLUMNS))), np.empty(0, dtype=np.int64), runs)

    def __len__(self) -> int:
        return int(self.data.shape[0])

    @cached_property
    def count(self) -> np.ndarray:
        """Members per run (computed once: rows never move between runs; read-only)."""
        return _read_only(np.bincount(self.run, minlength=self.runs))

    def keep(self, mask: np.ndarray) -> Members:
        """The members where ``mask`` is true."""
        return Members(self.data.compress(mask, axis=0), self.run.compress(mask), self.runs)

    def merge(self, other: Members) -> Members:
        """Per run, these members followed by ``other``'s (both sorted by run)."""
        if not len(other):
            return self
        if not len(self):
            return other
        own, new = self.count, other.count
        # run r's own members move up by the newcomers of earlier runs; its newcomers sit
        # after all members (own and new) of earlier runs and its own members
        new_before = np.cumsum(new) - new
        place_own = np.arange(len(self)) + new_before[self.run]
        place_new = np.arange(len(other)) - new_before[other.run]
        place_new += (np.cumsum(own) + new_before)[other.run]
        source = np.empty(len(self) + len(other), dtype=np.int64)
        source[place_own] = np.arange(len(self))
        source[place_new] = np.arange(len(self), len(self) + len(other))
        data = np.concatenate((self.data, other.data)).take(source, axis=0)
        run = np.concatenate((self.run, other.run)).take(source)
        merged = Members(data, run, self.runs)
        merged.count = _read_only(own + new)
        return merged

    @classmethod
    def stacked(cls, parts: Sequence[Members], runs: int) -> Members:
        """Per run, the members of ``parts`` in turn (each part sorted by run)."""
        parts = [part for part in parts if len(part)]
        if not parts:
            return cls.none(runs)
        if len(parts) == 1:
            return parts[0]
        run = np.concatenate([part.run for part in parts])
        order = np.argsort(run, kind="stable")
        data = np.concatenate([part.data for part in parts]).take(order, axis=0)
        return cls(data, run.take(order), runs)

    def fee_totals(self) -> np.ndarray:
        """Sum of the members' base-level fees per run (MSEK/year)."""
        return segment_sums(self.data[:, FEE], self.count)


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def segment_sums(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Sums of consecutive segments of ``values`` of lengths ``counts`` (each summed as
    ``values[segment].sum()`` would, so a run's sum does not depend on the batch)."""
    sums = np.zeros(len(counts))
    filled = counts > 0
    if not filled.any():
        return sums
    starts = np.cumsum(counts) - counts
    add = np.add.reduce  # what ndarray.sum calls, without its wrapper
    for r, start, count in zip(
        np.flatnonzero(filled).tolist(),
        starts[filled].tolist(),
        counts[filled].tolist(),
        strict=True,
    ):
        sums[r] = add(values[start : start + count])
    return sums


def per_run_uniforms(
    rngs: Sequence[np.random.Generator], counts: np.ndarray, drawing: np.ndarray
) -> np.ndarray:
    """``rngs[r].random(counts[r])`` for every run ``r`` where ``drawing[r]``, stacked."""
    which = np.flatnonzero(drawing)
    parts = [rngs[r].random(n) for r, n in zip(which.tolist(), counts[which].tolist(), strict=True)]
    return np.concatenate(parts) if parts else np.empty(0)


def split_blocks(draws: np.ndarray, sizes: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Split draws laid out run by run, each run's block holding ``sizes[0][r]``, then
    ``sizes[1][r]``, ... numbers, into one array per part (stacked over runs)."""
    per_run_parts = np.column_stack(sizes).ravel()  # run 0's parts, run 1's parts, ...
    part_of = np.repeat(np.tile(np.arange(len(sizes)), len(sizes[0])), per_run_parts)
    return [draws[part_of == part] for part in range(len(sizes))]


@dataclass(frozen=True)
class MemberMix:
    """How new members of a cluster are drawn: cumulative shares and fees by tier."""

    size_cumulative: np.ndarray
    type_cumulative: np.ndarray
    fee_by_tier: np.ndarray
    """Base-level fee per size tier (MSEK/year)."""

    @classmethod
    def of(cls, cluster: Cluster) -> MemberMix:
        """The mix of a configured cluster."""
        size = cluster.size_mix
        kind = cluster.type_mix
        fees = cluster.fee_ksek
        return cls(
            _cumulative((size.small, size.medium, size.large)),
            _cumulative((kind.company, kind.academia, kind.public)),
            np.array([fees.small, fees.medium, fees.large]) / 1000.0,
        )


def _cumulative(shares: tuple[float, float, float]) -> np.ndarray:
    cum = np.cumsum(np.asarray(shares, dtype=float))
    cum[-1] = 1.0
    return cum


def draw_members(
    counts: np.ndarray,
    mix: MemberMix,
    join_year: int,
    rngs: Sequence[np.random.Generator],
) -> Members:
    """``counts[r]`` new members in each run ``r``, size and type drawn from the mix (each
    run draws ``rngs[r].random((2, counts[r]))``)."""
    draws = per_run_uniforms(rngs, 2 * counts, counts > 0)
    size_draws, type_draws = split_blocks(draws, [counts, counts])
    return new_members(counts, mix, join_year, size_draws, type_draws)


def new_members(
    counts: np.ndarray,
    mix: MemberMix,
    join_year: int,
    size_draws: np.ndarray,
    type_draws: np.ndarray,
) -> Members:
    """``counts[r]`` new members in each run ``r``, their size and type set by one uniform
    each (stacked over runs) on the mix's cumulative shares."""
    if not len(size_draws) == len(type_draws) == counts.sum():
        raise ValueError("new_members needs one size and one type draw per new member")
    data = np.empty((len(size_draws), len(COLUMNS)))
    tier = np.searchsorted(mix.size_cumulative, size_draws, side="right")
    data[:, TIER] = tier
    data[:, KIND] = np.searchsorted(mix.type_cumulative, type_draws, side="right")
    data[:, JOIN_YEAR] = join_year
    data[:, SATISFACTION] = 1.0
    data[:, IN_ARENA] = 0.0
    data[:, FEE] = mix.fee_by_tier[tier]
    run = np.repeat(np.arange(len(counts)), counts)
    return Members(data, run, len(counts))


def apportion(count: int, cumulative_shares: np.ndarray) -> np.ndarray:
    """Whole numbers per category summing to ``count``, closest to the shares (largest remainder)."""
    shares = np.diff(cumulative_shares, prepend=0.0)
    exact = shares * count
    whole = np.floor(exact).astype(int)
    short = count - int(whole.sum())
    order = np.argsort(-(exact - whole), kind="stable")
    whole[order[:short]] += 1
    return whole


def starting_members(
    cluster: Cluster, mix: MemberMix, start_year: int, rngs: Sequence[np.random.Generator]
) -> Members:
    """The cluster's members in the first year of each run (established: joined before the
    programme).

    Their sizes and types follow the configured mix exactly (largest remainder), so the
    first year's fee income is the one the config was calibrated on; types are shuffled
    across sizes, run by run.
    """
    runs = len(rngs)
    count = cluster.members
    members = draw_members(np.full(runs, count), mix, start_year - ESTABLISHED_JOIN_OFFSET, rngs)
    tier = np.repeat(np.arange(3), apportion(count, mix.size_cumulative))
    kinds = np.repeat(np.arange(3), apportion(count, mix.type_cumulative))
    members.data[:, TIER] = np.tile(tier, runs)
    members.data[:, KIND] = np.concatenate([rng.permutation(kinds) for rng in rngs] or [kinds[:0]])
    members.data[:, FEE] = mix.fee_by_tier[np.tile(tier, runs)]
    return members


@dataclass(frozen=True)
class BaseRates:
    """A cluster's base churn and joining rates, one value per run of a batch (runs may use
    different parameter sets): the cluster's own ``churn`` and ``join_rate`` where it gives
    them, else the programme-wide ``members`` values."""

    churn: np.ndarray
    first_year_churn: np.ndarray
    join_rate: np.ndarray
    fee_sensitivity: np.ndarray
    value_sensitivity: np.ndarray
    arena_retention: np.ndarray

    @classmethod
    def of(cls, clusters: Sequence[Cluster], behaviours: Sequence[MemberBehaviour]) -> BaseRates:
        """The rates of run r from ``clusters[r]`` and ``behaviours[r]``."""
        pairs = list(zip(clusters, behaviours, strict=True))
        return cls(
            churn=np.array([c.churn if c.churn is not None else b.churn for c, b in pairs]),
            first_year_churn=np.array([b.first_year_churn for _, b in pairs]),
            join_rate=np.array(
                [c.join_rate if c.join_rate is not None else b.join_rate for c, b in pairs]
            ),
            fee_sensitivity=np.array([b.fee_sensitivity for b in behaviours]),
            value_sensitivity=np.array([b.value_sensitivity for b in behaviours]),
            arena_retention=np.array([b.arena_retention for b in behaviours]),
        )


def churn_probability(
    members: Members,
    year: int,
    behaviour: MemberBehaviour,
    rates: BaseRates,
    fee_rise: np.ndarray,
    shock: float,
) -> np.ndarray:
    """Probability that each member leaves at the start of ``year`` (``fee_rise`` per run).

    ``p_i = min(1, base_i * shock * exp(fs * max(0, fee_rise - tol) - vs * (s_i - 1))
    * (1 - r * a_i))`` where ``base_i`` is ``first_year_churn`` for a member who
    joined last year and ``churn`` otherwise, ``s_i`` its satisfaction and ``a_i``
    whether it took part in an arena project (the base rates are its run's, ``rates``).
    With ``feedback`` off only ``base_i * shock`` remains.
    """
    data = members.data
    first_year = data[:, JOIN_YEAR] == year - 1
    p = np.where(
        first_year,
        rates.first_year_churn[members.run] * shock,
        rates.churn[members.run] * shock,
    )
    if behaviour.feedback:
        fee_term = rates.fee_sensitivity * np.maximum(0.0, fee_rise - behaviour.fee_tolerance)
        p *= np.exp(
            fee_term[members.run]
            - rates.value_sensitivity[members.run] * (data[:, SATISFACTION] - 1.0)
        )
        p *= 1.0 - rates.arena_retention[members.run] * data[:, IN_ARENA]
    return np.minimum(p, 1.0, out=p)


def expected_joiners(
    members_last_year: np.ndarray,
    value: np.ndarray,
    has_arena_projects: np.ndarray,
    cluster: Cluster,
    behaviour: MemberBehaviour,
    join_rate: np.ndarray,
    build_up_target: int,
    shock: float,
) -> np.ndarray:
    """Expected new members in a year, per run.

    ``lambda = shock * (join_rate * N * attractiveness + startup)`` (``join_rate`` per run),
    where
    ``attractiveness = value * (1 + arena_attraction * has_projects)`` with feedback
    (1 without), and ``startup = startup_joiners`` while ``N < build_up_target``.
    """
    if not behaviour.joining:
        return np.zeros(len(members_last_year))
    attractiveness = np.ones(len(members_last_year))
    if behaviour.feedback:
        attractiveness = value * (1.0 + behaviour.arena_attraction * has_arena_projects)
    startup = np.where(members_last_year < build_up_target, float(cluster.startup_joiners), 0.0)
    return shock * (join_rate * members_last_year * attractiveness + startup)


def value_index(
    activity_level: np.ndarray, members: np.ndarray, starting_members: int, elasticity: float
) -> np.ndarray:
    """What membership is worth this year, 1 = as at the start (per run).

    ``value = activity_level * clip(N / max(N0, 1), 0.5, 2) ** elasticity``: members
    value activities (cut when money is short) and, weakly, the size of the network.
    """
    ratio = np.minimum(2.0, np.maximum(0.5, members / max(starting_members, 1)))
    return activity_level * ratio**elasticity


def update_satisfaction(members: Members, value: np.ndarray, weight: float) -> None:
    """``s_i <- (1 - weight) * s_i + weight * value_run(i)`` in place."""
    satisfaction = members.data[:, SATISFACTION]
    satisfaction *= 1.0 - weight
    satisfaction += weight * value[members.run]
