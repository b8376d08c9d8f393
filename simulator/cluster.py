"""A cluster organisation as a SimPy process: its members, money and management."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass

import numpy as np
import simpy

from simulator.members import (
    FEE,
    IN_ARENA,
    JOIN_YEAR,
    SATISFACTION,
    TIER,
    MemberMix,
    Members,
    assign_arena_participation,
    churn_probability,
    draw_members,
    expected_joiners,
    renew,
    starting_members,
    update_satisfaction,
    value_index,
)
from simulator.scenario import Cluster, Scenario, Shock
from simulator.schedules import Books

ACTIVE, AT_RISK, DISTRESSED, CLOSED = "active", "at_risk", "distressed", "closed"


@dataclass(frozen=True)
class YearFunding:
    """What the programme office pays one cluster in one year."""

    regional_base: float
    arena_income: float
    arena_projects: float
    """Funded projects the cluster takes part in, weighted by funded fraction."""


@dataclass(frozen=True)
class ShockFactors:
    """Multipliers of all shocks active in a year (1 = no shock)."""

    private: float = 1.0
    joiners: float = 1.0
    churn: float = 1.0
    other_public: float = 1.0


def shock_factors(shocks: Sequence[Shock], year: int) -> ShockFactors:
    """Product of the multipliers of every shock active in ``year``."""
    private = joiners = churn = other = 1.0
    for shock in shocks:
        if shock.from_year <= year <= shock.to_year:
            private *= shock.private_multiplier
            joiners *= shock.joiner_multiplier
            churn *= shock.churn_multiplier
            other *= shock.other_public_multiplier
    return ShockFactors(private, joiners, churn, other)


def fee_rise_after(deficit: float, fee_income: float, max_rise: float) -> float:
    """Fee rise decided after a year: ``min(max_rise, deficit / fee_income)`` when in deficit."""
    if deficit <= 0.0 or fee_income <= 0.0:
        return 0.0
    return min(max_rise, deficit / fee_income)


def private_income_step(underlying: float, target: float, lag_years: float) -> float:
    """Private income moves a ``1 / lag_years`` part of the way to its target each year."""
    return underlying + (target - underlying) / lag_years


YEARLY_COLUMNS = (
    "year",
    "cluster",
    "members",
    "fee_income",
    "private_income",
    "regional_base",
    "arena_income",
    "other_public",
    "total_income",
    "costs",
    "reserves",
    "status",
    "joined",
    "left",
    "fee_multiplier",
    "activity_level",
    "regional_share",
    "arena_projects",
    "surplus_spent",
    "settled",
)


class ClusterAgent:
    """One cluster: members as arrays, money as floats, management rules.

    Each year, in this order: members renew or leave (churn from last year's fee
    rise, their satisfaction and arena participation), new members join, members
    are drawn into funded arena projects, income and costs are booked, reserves
    carry over, and management reacts for next year:

    - deficit ``d = costs - income > 0``: fees rise by ``min(max_fee_rise, d / fees)``,
      private-funding effort rises by ``effort_step`` (up to ``max_effort``);
    - reserves below ``reserve_threshold`` years of costs: activities are cut by
      ``cut_step`` (not below ``min_activity``); above twice that, restored by ``restore_step``;
    - reserves above the cap (``reserve_cap_years``, when set): the surplus is spent
      on extra activities the next year (below);
    - negative reserves ``closure_years`` years running: the cluster closes at the
      end of that year and is liquidated: its reserves ``R`` are settled once to 0
      (a positive balance paid out, a negative one written off; ``settled = R`` in
      yearly.csv and the event ``liquidated R``). A ``transfer_share`` of its members
      (each with that probability, drawn from the run's rng) are handed to the
      programme office, which places them in open clusters the next year
      (``ProgrammeOffice``, ``place_transfers``); the rest leave. It takes no money after.

    Spending a surplus (money-conserving, booked in ``costs``): with cap ``c`` years,
    after year t's books close ``S_t = max(0, R_t - c * K_t)``, ``K_t`` year t's costs
    without surplus spending; year t+1 spends it all:
    ``costs_{t+1} = K_{t+1} + S_t`` (column ``surplus_spent``), and members see the
    activity level ``a'_{t+1} = min(max_activity, a_{t+1} + S_t / activity_cost)``
    (column ``activity_level``) in year t+1's value index,
    ``value = a' * clip(N / N0, 0.5, 2) ** elasticity``. So
    ``R_{t+1} = c * K_t + (I_{t+1} - K_{t+1})``: reserves exceed the cap by at most
    one year's surplus. Money spent above ``max_activity`` is still spent (costs),
    and buys members no more value.

    Books: ``R_t = R_{t-1} + income_t - costs_t - settled_t``.

    Costs are ``staff + activity_cost * activity_level + fixed + (1 - overhead_share)
    * arena_income + surplus_spent`` (the arena money not covering overheads is spent
    on the projects).
    Private income follows ``private_income_step`` towards
    ``max(0, private_income + private_per_member * (N - N0)) * effort``, times any shock.
    """

    def __init__(
        self,
        cluster_id: str,
        scenario: Scenario,
        rng: np.random.Generator,
        rows: list[tuple],
        events: list[tuple[int, str, str]],
    ) -> None:
        self.id = cluster_id
        self.params: Cluster = scenario.clusters[cluster_id]
        self.scenario = scenario
        self.rng = rng
        self.rows = rows
        self.events = events
        self.mix = MemberMix.of(self.params)
        self.members: Members = starting_members(
            self.params, self.mix, scenario.programme.start_year, rng
        )
        self.fee_multiplier = 1.0
        self.fee_rise = 0.0
        self.effort = 1.0
        self.private_underlying = self.params.private_income
        self.activity_level = 1.0
        self.reserves = self.params.opening_reserves
        self.years_in_red = 0
        self.closed = False
        self.at_risk = False
        self.books: Books | None = None
        """Last year's books, for a funding rule (``None`` before the first year)."""
        self.surplus_to_spend = 0.0
        """Reserves above the cap at the end of last year, spent on activities this year."""
        self.extra_activity = 0.0
        """Activity level added by last year's surplus spending (value members saw)."""
        self.transferring: Members | None = None
        """Members of this cluster, closed last year, waiting for the office to place them."""
        self.transfer_draws = np.empty(0)
        """One uniform per transferring member: where the office places it."""
        self.incoming: list[Members] = []
        """Members from closed clusters who join this cluster this year."""

    def run(self, env: simpy.Environment, announcements: Announcements) -> Generator:
        """SimPy process: wait for each year's funding from the programme office, then live the year."""
        for year in self.scenario.years:
            funding = yield announcements.of(year)
            if self.closed:
                self._book_closed(year)
            else:
                self._live_year(year, funding[self.id])

    def _book_closed(self, year: int) -> None:
        self.rows.append(
            (
                year,
                self.id,
                0,
                0.0,
                0.0,
                0.0,
                0.0,
                0.0,
                0.0,
                0.0,
                self.reserves,
                CLOSED,
                0,
                0,
                self.fee_multiplier,
                0.0,
                0.0,
                0.0,
                0.0,
                0.0,
            )
        )

    def _update_members(
        self, year: int, funding: YearFunding, shock: ShockFactors
    ) -> tuple[int, int]:
        behaviour = self.scenario.members
        last_count = len(self.members)
        value = value_index(
            self._activity_seen(),
            last_count,
            self.params.members,
            behaviour.network_elasticity,
        )
        if behaviour.feedback:
            update_satisfaction(self.members, value, behaviour.satisfaction_weight)
        probability = churn_probability(self.members, year, behaviour, self.fee_rise, shock.churn)
        self.members, left = renew(self.members, probability, self.rng.random(last_count))
        expected = expected_joiners(
            last_count,
            value,
            funding.arena_projects > 0,
            self.params,
            behaviour,
            self.scenario.scorecard.min_members,
            shock.joiners,
        )
        joined = int(self.rng.poisson(expected)) if expected > 0 else 0
        if joined:
            self.members = self.members.extend(draw_members(joined, self.mix, year, self.rng))
        for arriving in self.incoming:
            self.members = self.members.extend(arriving)
            joined += len(arriving)
        self.incoming = []
        return joined, left

    def _activity_seen(self) -> float:
        """This year's activity level with the surplus spending, as members see it."""
        return min(self.scenario.management.max_activity, self.activity_level + self.extra_activity)

    def receive(self, members: Members, year: int) -> None:
        """Members of a closed cluster who join this one in ``year`` (as new members:
        their size and type kept, this cluster's fee for their size)."""
        data = members.data.copy()
        data[:, JOIN_YEAR] = year
        data[:, SATISFACTION] = 1.0
        data[:, IN_ARENA] = 0.0
        data[:, FEE] = self.mix.fee_by_tier[data[:, TIER].astype(int)]
        self.incoming.append(Members(data))

    def _live_year(self, year: int, funding: YearFunding) -> None:
        params, management = self.params, self.scenario.management
        shock = shock_factors(self.scenario.shocks, year)
        first_year = year == self.scenario.programme.start_year
        surplus_spent, self.surplus_to_spend = self.surplus_to_spend, 0.0
        self.extra_activity = (
            surplus_spent / params.activity_cost if params.activity_cost > 0 else 0.0
        )
        joined, left = (0, 0) if first_year else self._update_members(year, funding, shock)
        count = len(self.members)
        assign_arena_participation(
            self.members,
            min(1.0, self.scenario.members.arena_participation * funding.arena_projects),
            self.rng.random(count),
        )

        fee_income = self.members.fee_total() * self.fee_multiplier
        if not first_year:
            target = max(
                0.0,
                params.private_income + management.private_per_member * (count - params.members),
            )
            self.private_underlying = private_income_step(
                self.private_underlying, target * self.effort, management.private_lag_years
            )
        private_income = self.private_underlying * shock.private
        other_public = params.other_public * shock.other_public
        regional_base = funding.regional_base
        arena_income = funding.arena_income
        total_income = fee_income + private_income + regional_base + arena_income + other_public
        costs = (
            params.staff_cost
            + params.activity_cost * self.activity_level
            + params.fixed_cost
            + (1.0 - self.scenario.arena.overhead_share) * arena_income
        )
        self.reserves = self.reserves + total_income - costs - surplus_spent
        self.books = Books(count, fee_income, private_income, total_income)
        activity_this_year, fee_multiplier_this_year = self._activity_seen(), self.fee_multiplier
        cap_years = management.reserve_cap_years
        if cap_years is not None:
            self.surplus_to_spend = max(0.0, self.reserves - cap_years * costs)
        status = self._manage(year, costs - total_income, fee_income, costs)
        settled = 0.0
        if self.closed:
            settled, self.reserves = self.reserves, 0.0
            self.surplus_to_spend = 0.0
            self.events.append((year, self.id, f"liquidated {settled:.6f}"))
            self._leave(year, count)
        costs += surplus_spent
        regional_share = regional_base / total_income if total_income > 0 else 0.0
        self.rows.append(
            (
                year,
                self.id,
                count,
                fee_income,
                private_income,
                regional_base,
                arena_income,
                other_public,
                total_income,
                costs,
                self.reserves,
                status,
                joined,
                left,
                fee_multiplier_this_year,
                activity_this_year,
                regional_share,
                funding.arena_projects,
                surplus_spent,
                settled,
            )
        )

    def _leave(self, year: int, count: int) -> None:
        """On closure: each member transfers with probability ``transfer_share`` (to be
        placed by the office next year, see ``place_transfers``), the rest leave; none
        transfer after the last year."""
        share = self.scenario.members.transfer_share
        if share > 0 and year < self.scenario.years[-1]:
            moving = self.members.keep(self.rng.random(count) < share)
            if len(moving):
                self.transferring = moving
                self.transfer_draws = self.rng.random(len(moving))
        self.members = self.members.keep(np.zeros(count, dtype=bool))

    def _manage(self, year: int, deficit: float, fee_income: float, costs: float) -> str:
        """Management's reaction after the books close; returns the year's status."""
        management = self.scenario.management
        self.fee_rise = 0.0
        if management.fee_policy:
            self.fee_rise = fee_rise_after(deficit, fee_income, management.max_fee_rise)
            self.fee_multiplier *= 1.0 + self.fee_rise
            if self.fee_rise > 0:
                self.events.append((year, self.id, f"fee_rise {self.fee_rise:.3f}"))
        if management.private_effort and deficit > 0:
            self.effort = min(management.max_effort, self.effort + management.effort_step)
        low = management.reserve_threshold * costs
        self.at_risk = self.reserves < low
        if (
            management.activity_cuts
            and self.at_risk
            and self.activity_level > management.min_activity
        ):
            self.activity_level = max(
                management.min_activity, self.activity_level - management.cut_step
            )
            self.events.append((year, self.id, "activity_cut"))
        elif self.reserves > 2 * low:
            self.activity_level = min(1.0, self.activity_level + management.restore_step)
        self.years_in_red = self.years_in_red + 1 if self.reserves < 0 else 0
        if self.years_in_red >= management.closure_years:
            self.closed = True
            self.events.append((year, self.id, "closed"))
            return CLOSED
        if self.reserves < 0:
            return DISTRESSED
        return AT_RISK if self.at_risk else ACTIVE


class Announcements:
    """One SimPy event per year: the programme office's funding decision for that year."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.events: dict[int, simpy.Event] = {}

    def of(self, year: int) -> simpy.Event:
        """The event that fires when ``year``'s funding is announced."""
        if year not in self.events:
            self.events[year] = self.env.event()
        return self.events[year]

    def announce(self, year: int, funding: dict[str, YearFunding]) -> None:
        """Fire ``year``'s event with each cluster's funding."""
        self.of(year).succeed(funding)
