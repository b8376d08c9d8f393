"""A cluster's members as numpy arrays (one element per member), and their yearly dynamics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.scenario import Cluster, MemberBehaviour

ESTABLISHED_JOIN_OFFSET = 5
"""Starting members of an existing cluster count as having joined this many years
before the programme, so none of them is in its first year."""


@dataclass
class Members:
    """Members of one cluster; every array has one element per member."""

    tier: np.ndarray
    """Size tier: 0 small, 1 medium, 2 large (sets the fee)."""
    kind: np.ndarray
    """Type: 0 company, 1 academia, 2 public."""
    join_year: np.ndarray
    """Year the member joined."""
    satisfaction: np.ndarray
    """Smoothed value the member has received (1 = as in the first year)."""
    in_arena: np.ndarray
    """Whether the member takes part in a funded arena project this year."""

    def __len__(self) -> int:
        return int(self.tier.shape[0])

    def keep(self, mask: np.ndarray) -> Members:
        """The members where ``mask`` is true."""
        return Members(
            self.tier[mask],
            self.kind[mask],
            self.join_year[mask],
            self.satisfaction[mask],
            self.in_arena[mask],
        )

    def extend(self, other: Members) -> Members:
        """These members followed by ``other``."""
        return Members(
            np.concatenate((self.tier, other.tier)),
            np.concatenate((self.kind, other.kind)),
            np.concatenate((self.join_year, other.join_year)),
            np.concatenate((self.satisfaction, other.satisfaction)),
            np.concatenate((self.in_arena, other.in_arena)),
        )

    def tier_counts(self) -> np.ndarray:
        """Number of members per size tier (small, medium, large)."""
        return np.bincount(self.tier, minlength=3)


def _cumulative(shares: tuple[float, ...]) -> np.ndarray:
    cum = np.cumsum(np.asarray(shares, dtype=float))
    cum[-1] = 1.0
    return cum


def draw_members(count: int, cluster: Cluster, join_year: int, rng: np.random.Generator) -> Members:
    """``count`` new members with size and type drawn from the cluster's mixes."""
    size = _cumulative(tuple(cluster.size_mix.model_dump().values()))
    kind = _cumulative(tuple(cluster.type_mix.model_dump().values()))
    draws = rng.random((2, count))
    return Members(
        tier=np.searchsorted(size, draws[0], side="right").astype(np.int64),
        kind=np.searchsorted(kind, draws[1], side="right").astype(np.int8),
        join_year=np.full(count, join_year, dtype=np.int32),
        satisfaction=np.ones(count),
        in_arena=np.zeros(count, dtype=bool),
    )


def starting_members(cluster: Cluster, start_year: int, rng: np.random.Generator) -> Members:
    """The cluster's members in the first year (established: joined before the programme)."""
    return draw_members(cluster.members, cluster, start_year - ESTABLISHED_JOIN_OFFSET, rng)


def churn_probability(
    members: Members,
    year: int,
    behaviour: MemberBehaviour,
    fee_rise: float,
    shock: float,
) -> np.ndarray:
    """Probability that each member leaves at the start of ``year``.

    ``p_i = clip(base_i * shock * exp(fs * max(0, fee_rise - tol) - vs * (s_i - 1))
    * (1 - r * a_i), 0, 1)`` where ``base_i`` is ``first_year_churn`` for a member
    who joined last year and ``churn`` otherwise, ``s_i`` its satisfaction and
    ``a_i`` whether it took part in an arena project. With ``feedback`` off only
    ``base_i * shock`` remains.
    """
    first_year = members.join_year == year - 1
    p = np.where(first_year, behaviour.first_year_churn, behaviour.churn) * shock
    if behaviour.feedback:
        fee_term = behaviour.fee_sensitivity * max(0.0, fee_rise - behaviour.fee_tolerance)
        p *= np.exp(fee_term - behaviour.value_sensitivity * (members.satisfaction - 1.0))
        p *= 1.0 - behaviour.arena_retention * members.in_arena
    return np.minimum(p, 1.0, out=p)


def expected_joiners(
    members_last_year: int,
    starting_count: int,
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


def renew(
    members: Members, probability: np.ndarray, rng: np.random.Generator
) -> tuple[Members, int]:
    """Members who stay (each leaves with its probability), and how many left."""
    stay = rng.random(len(members)) >= probability
    kept = members.keep(stay)
    return kept, len(members) - len(kept)


def update_satisfaction(members: Members, value: float, weight: float) -> None:
    """``s_i <- (1 - weight) * s_i + weight * value`` in place."""
    members.satisfaction *= 1.0 - weight
    members.satisfaction += weight * value


def assign_arena_participation(members: Members, share: float, rng: np.random.Generator) -> None:
    """Each member takes part in an arena project with probability ``share`` (in place)."""
    if share <= 0.0:
        members.in_arena[:] = False
    else:
        members.in_arena = rng.random(len(members)) < share
