"""A cluster's members as a numpy array (one row per member), and their yearly dynamics.

All attributes of a member sit in one row of a 2-D float array, so that keeping
the members who renew or adding those who join is a single numpy operation,
whatever the number of attributes. The columns are named by the constants below.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    """Members of one cluster: ``data`` has one row per member, columns as ``COLUMNS``."""

    data: np.ndarray

    def __len__(self) -> int:
        return int(self.data.shape[0])

    def column(self, index: int) -> np.ndarray:
        """One attribute of every member (a view)."""
        return self.data[:, index]

    def keep(self, mask: np.ndarray) -> Members:
        """The members where ``mask`` is true."""
        return Members(self.data[mask])

    def extend(self, other: Members) -> Members:
        """These members followed by ``other``."""
        return Members(np.concatenate((self.data, other.data)))

    def fee_total(self) -> float:
        """Sum of the members' base-level fees (MSEK/year)."""
        return float(self.data[:, FEE].sum())


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


def draw_members(count: int, mix: MemberMix, join_year: int, rng: np.random.Generator) -> Members:
    """``count`` new members with size and type drawn from the cluster's mix."""
    draws = rng.random((2, count))
    data = np.empty((count, len(COLUMNS)))
    tier = np.searchsorted(mix.size_cumulative, draws[0], side="right")
    data[:, TIER] = tier
    data[:, KIND] = np.searchsorted(mix.type_cumulative, draws[1], side="right")
    data[:, JOIN_YEAR] = join_year
    data[:, SATISFACTION] = 1.0
    data[:, IN_ARENA] = 0.0
    data[:, FEE] = mix.fee_by_tier[tier]
    return Members(data)


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
    cluster: Cluster, mix: MemberMix, start_year: int, rng: np.random.Generator
) -> Members:
    """The cluster's members in the first year (established: joined before the programme).

    Their sizes and types follow the configured mix exactly (largest remainder), so the
    first year's fee income is the one the config was calibrated on; types are shuffled
    across sizes.
    """
    count = cluster.members
    members = draw_members(count, mix, start_year - ESTABLISHED_JOIN_OFFSET, rng)
    tier = np.repeat(np.arange(3), apportion(count, mix.size_cumulative))
    kind = rng.permutation(np.repeat(np.arange(3), apportion(count, mix.type_cumulative)))
    members.data[:, TIER] = tier
    members.data[:, KIND] = kind
    members.data[:, FEE] = mix.fee_by_tier[tier]
    return members


def churn_probability(
    members: Members,
    year: int,
    behaviour: MemberBehaviour,
    fee_rise: float,
    shock: float,
) -> np.ndarray:
    """Probability that each member leaves at the start of ``year``.

    ``p_i = min(1, base_i * shock * exp(fs * max(0, fee_rise - tol) - vs * (s_i - 1))
    * (1 - r * a_i))`` where ``base_i`` is ``first_year_churn`` for a member who
    joined last year and ``churn`` otherwise, ``s_i`` its satisfaction and ``a_i``
    whether it took part in an arena project. With ``feedback`` off only
    ``base_i * shock`` remains.
    """
    data = members.data
    first_year = data[:, JOIN_YEAR] == year - 1
    p = np.where(first_year, behaviour.first_year_churn * shock, behaviour.churn * shock)
    if behaviour.feedback:
        fee_term = behaviour.fee_sensitivity * max(0.0, fee_rise - behaviour.fee_tolerance)
        p *= np.exp(fee_term - behaviour.value_sensitivity * (data[:, SATISFACTION] - 1.0))
        p *= 1.0 - behaviour.arena_retention * data[:, IN_ARENA]
    return np.minimum(p, 1.0, out=p)


def expected_joiners(
    members_last_year: int,
    value: float,
    has_arena_projects: bool,
    cluster: Cluster,
    behaviour: MemberBehaviour,
    build_up_target: int,
    shock: float,
) -> float:
    """Expected new members in a year.

    ``lambda = shock * (join_rate * N * attractiveness + startup)``, where
    ``attractiveness = value * (1 + arena_attraction * has_projects)`` with feedback
    (1 without), and ``startup = startup_joiners`` while ``N < build_up_target``.
    """
    if not behaviour.joining:
        return 0.0
    attractiveness = 1.0
    if behaviour.feedback:
        attractiveness = value * (1.0 + behaviour.arena_attraction * has_arena_projects)
    startup = cluster.startup_joiners if members_last_year < build_up_target else 0.0
    return shock * (behaviour.join_rate * members_last_year * attractiveness + startup)


def value_index(
    activity_level: float, members: int, starting_members: int, elasticity: float
) -> float:
    """What membership is worth this year, 1 = as at the start.

    ``value = activity_level * clip(N / max(N0, 1), 0.5, 2) ** elasticity``: members
    value activities (cut when money is short) and, weakly, the size of the network.
    """
    ratio = min(2.0, max(0.5, members / max(starting_members, 1)))
    return activity_level * ratio**elasticity


def renew(members: Members, probability: np.ndarray, uniforms: np.ndarray) -> tuple[Members, int]:
    """Members who stay (member i leaves when ``uniforms[i] < probability[i]``), and how many left."""
    kept = members.keep(uniforms >= probability)
    return kept, len(members) - len(kept)


def update_satisfaction(members: Members, value: float, weight: float) -> None:
    """``s_i <- (1 - weight) * s_i + weight * value`` in place."""
    satisfaction = members.data[:, SATISFACTION]
    satisfaction *= 1.0 - weight
    satisfaction += weight * value


def assign_arena_participation(members: Members, share: float, uniforms: np.ndarray) -> None:
    """Member i takes part in an arena project when ``uniforms[i] < share`` (in place)."""
    members.data[:, IN_ARENA] = uniforms < share
