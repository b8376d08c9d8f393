"""A cluster organisation as a SimPy process, living the same year in a batch of runs."""

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
    BaseRates,
    MemberMix,
    Members,
    churn_probability,
    expected_joiners,
    new_members,
    per_run_uniforms,
    split_blocks,
    starting_members,
    update_satisfaction,
    value_index,
)
from simulator.records import (
    ABSORBED,
    ACTIVE,
    AT_RISK,
    CLOSED,
    DEFUNDED,
    DISTRESSED,
    NOT_FORMED,
    STATUS_CODES,
    Event,
    OutOfRange,
    YearlyTable,
)
from simulator.scenario import MAX_MEMBERS, Cluster, FeeReform, Scenario, Shock
from simulator.schedules import BooksBatch


@dataclass(frozen=True)
class YearFunding:
    """What the programme office pays each cluster in one year: arrays of shape (runs, clusters)."""

    regional_base: np.ndarray
    arena_income: np.ndarray
    arena_projects: np.ndarray
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


def fee_rise_after(deficit: np.ndarray, fee_income: np.ndarray, max_rise: float) -> np.ndarray:
    """Fee rise decided after a year: ``min(max_rise, deficit / fee_income)`` when in deficit."""
    rising = (deficit > 0.0) & (fee_income > 0.0)
    ratio = np.divide(deficit, fee_income, out=np.zeros_like(deficit), where=rising)
    return np.where(rising, np.minimum(max_rise, ratio), 0.0)


def private_income_step(
    underlying: np.ndarray, target: np.ndarray, lag_years: float | np.ndarray
) -> np.ndarray:
    """Private income moves a ``1 / lag_years`` part of the way to its target each year."""
    return underlying + (target - underlying) / lag_years


class ClusterBatch:
    """One cluster in a batch of runs: members as arrays, money and state as one value per run.

    Every rule below is applied to all runs at once, one numpy call per mechanism;
    runs never interact (see :mod:`simulator.members` for the randomness).

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
      (``programme_office``, ``place_transfers``); the rest leave. It takes no money after.

    Other ways out of the programme, decided at the same time (a run leaves by one way, the
    first that applies in this order: closed, not formed, defunded, absorbed). Each settles
    the reserves once (``settled = R``, event ``settled R``) and takes no money after; the
    members leave the programme with the cluster (none transfer):

    - ``not_formed``: a cluster being started (``forming_until``) with fewer than
      ``forming_members`` members at the end of that year;
    - ``defunded``: at the mid-term review (``review.year``), a cluster below
      ``min_business_share`` of its income from fees and private money, or below
      ``min_members``;
    - ``absorbed``: after a year whose deficit is more than the largest fee rise would
      bring in (``d > max_fee_rise * fees``) and that leaves reserves low (at risk), with
      ``absorption.probability`` (one uniform from the run's generator, drawn only in such
      years).

    A fee reform (``fee_reforms``) in year t, before the renewals: each member leaves with
    ``member_loss`` (one uniform per member), and fees are multiplied by ``fee_multiplier``
    from then on. A random reform draws one uniform a year until it happens.

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
        index: int,
        cluster_id: str,
        scenario: Scenario,
        rngs: Sequence[np.random.Generator],
        table: YearlyTable,
        events: list[list[Event]],
        run_scenarios: Sequence[Scenario] | None = None,
    ) -> None:
        self.index = index
        """Position in the scenario's clusters (the table's cluster axis)."""
        self.id = cluster_id
        self.params: Cluster = scenario.clusters[cluster_id]
        self.scenario = scenario
        self.rngs = rngs
        self.table = table
        self.events = events
        runs = len(rngs)
        per_run = list(run_scenarios) if run_scenarios is not None else [scenario] * runs
        run_clusters = [variant.clusters[cluster_id] for variant in per_run]
        self.rates = BaseRates.of(run_clusters, [variant.members for variant in per_run])
        """Base churn and joining per run (runs may use different parameter sets)."""
        self.private_income = np.array([c.private_income for c in run_clusters])
        """Private income in the first year, per run."""
        self.other_public = np.array([c.other_public for c in run_clusters])
        """Other public funding a year, per run."""
        self.absorption_probability = np.array([v.absorption.probability for v in per_run])
        """Chance of absorption after a year of low reserves and a deep deficit, per run."""
        self.private_lag_years = np.array([v.management.private_lag_years for v in per_run])
        """Years private income takes to reach its target, per run."""
        self.max_effort = np.array([v.management.max_effort for v in per_run])
        """The most private-funding effort management makes, per run."""
        self.reforms: list[FeeReform] = [
            reform for reform in scenario.fee_reforms if reform.cluster == cluster_id
        ]
        self.reformed = [np.zeros(runs, dtype=bool) for _ in self.reforms]
        """Per fee reform: the runs where it has happened."""
        self.mix = MemberMix.of(self.params)
        self.members: Members = starting_members(
            self.params, self.mix, scenario.programme.start_year, rngs
        )
        self.fee_multiplier = np.ones(runs)
        self.fee_rise = np.zeros(runs)
        self.effort = np.ones(runs)
        self.private_underlying = self.private_income.copy()
        self.activity_level = np.ones(runs)
        self.reserves = np.full(runs, self.params.opening_reserves)
        self.years_in_red = np.zeros(runs, dtype=np.int64)
        self.closed = np.zeros(runs, dtype=bool)
        """Runs where the cluster has left the programme (any way out)."""
        self.left_as = np.full(runs, STATUS_CODES[CLOSED])
        """The status code of the way it left, in the runs where it has left."""
        self.at_risk = np.zeros(runs, dtype=bool)
        self.books: BooksBatch | None = None
        """Last year's books, for a funding rule (``None`` before the first year)."""
        self.surplus_to_spend = np.zeros(runs)
        """Reserves above the cap at the end of last year, spent on activities this year."""
        self.extra_activity = np.zeros(runs)
        """Activity level added by last year's surplus spending (value members saw)."""
        self.transferring = Members.none(runs)
        """Members of this cluster, closed last year, waiting for the office to place them."""
        self.transfer_draws = np.empty(0)
        """One uniform per transferring member: where the office places it."""
        self.incoming: list[Members] = []
        """Members from closed clusters who join this cluster this year."""

    @property
    def runs(self) -> int:
        """How many runs the batch holds."""
        return len(self.rngs)

    def run(self, env: simpy.Environment, announcements: Announcements) -> Generator:
        """SimPy process: wait for each year's funding from the programme office, then live
        the year in every run where the cluster is open."""
        for t, year in enumerate(self.scenario.years):
            funding = yield announcements.of(year)
            self._live_year(t, year, funding)

    def _event(self, run: int, year: int, what: str) -> None:
        self.events[run].append(Event(year, self.id, what))

    def _update_members(
        self, year: int, live: np.ndarray, funding: YearFunding, shock: ShockFactors
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Renewal, joiners and incoming transfers; (joined, left) per run, and the year's
        arena draws (one uniform per member, stacked over the runs where it lives).

        A run draws its joiners' sizes and types and then its members' arena draws in one
        call (``random(2 * joiners + members)``, the same numbers as two calls)."""
        behaviour = self.scenario.members
        reform_loss = self._fee_reforms(year, live)
        last_count = self.members.count
        value = value_index(
            self._activity_seen(), last_count, self.params.members, behaviour.network_elasticity
        )
        if behaviour.feedback:
            update_satisfaction(self.members, value, behaviour.satisfaction_weight)
        probability = churn_probability(
            self.members, year, behaviour, self.rates, self.fee_rise, shock.churn
        )
        uniforms = per_run_uniforms(self.rngs, last_count, live)
        self.members = self.members.keep(uniforms >= probability)
        left = last_count - self.members.count + reform_loss
        expected = expected_joiners(
            last_count,
            value,
            funding.arena_projects[:, self.index] > 0,
            self.params,
            behaviour,
            self.rates.join_rate,
            self.scenario.scorecard.min_members,
            shock.joiners,
        )
        too_many = live & (last_count + expected > MAX_MEMBERS)
        if too_many.any():
            raise OutOfRange(
                self.id,
                year,
                f"{float(expected[too_many][0]):.3g} expected joiners would take its membership "
                f"past {MAX_MEMBERS:,}",
            )
        joined = np.zeros(self.runs, dtype=np.int64)
        for r in np.flatnonzero(live & (expected > 0)):
            joined[r] = self.rngs[r].poisson(expected[r])
        arriving = sum((part.count for part in self.incoming), np.zeros(self.runs, np.int64))
        this_year = np.where(live, self.members.count + joined + arriving, 0)
        draws = per_run_uniforms(self.rngs, 2 * joined + this_year, live)
        size_draws, type_draws, arena_draws = split_blocks(draws, [joined, joined, this_year])
        newcomers = [new_members(joined, self.mix, year, size_draws, type_draws)]
        # per run: its joiners, then the members arriving from each closed cluster in turn
        self.members = self.members.merge(Members.stacked(newcomers + self.incoming, self.runs))
        self.incoming = []
        return joined + arriving, left, arena_draws

    def _fee_reforms(self, year: int, live: np.ndarray) -> np.ndarray:
        """Apply this year's fee reforms (scheduled, or drawn for the runs not yet reformed):
        members leave with the reform's ``member_loss``, fees change from now on; returns
        the members lost per run."""
        lost = np.zeros(self.runs, dtype=np.int64)
        for reform, reformed in zip(self.reforms, self.reformed, strict=True):
            if reform.year is not None:
                hit = live & ~reformed & (year == reform.year)
            else:
                waiting = live & ~reformed
                draws = per_run_uniforms(self.rngs, waiting.astype(np.int64), waiting)
                hit = np.zeros(self.runs, dtype=bool)
                hit[waiting] = draws < reform.yearly_probability
            if not hit.any():
                continue
            reformed |= hit
            before = self.members.count
            uniforms = per_run_uniforms(self.rngs, before, hit)
            keep = np.ones(len(self.members), dtype=bool)
            keep[hit[self.members.run]] = uniforms >= reform.member_loss
            self.members = self.members.keep(keep)
            lost += before - self.members.count
            self.fee_multiplier = np.where(
                hit, self.fee_multiplier * reform.fee_multiplier, self.fee_multiplier
            )
            for r in np.flatnonzero(hit):
                self._event(r, year, f"fee_reform lost {int(before[r] - self.members.count[r])}")
        return lost

    def _activity_seen(self) -> np.ndarray:
        """This year's activity level with the surplus spending, as members see it."""
        return np.minimum(
            self.scenario.management.max_activity, self.activity_level + self.extra_activity
        )

    def receive(self, members: Members, year: int) -> None:
        """Members of a closed cluster who join this one in ``year`` (as new members:
        their size and type kept, this cluster's fee for their size)."""
        data = members.data.copy()
        data[:, JOIN_YEAR] = year
        data[:, SATISFACTION] = 1.0
        data[:, IN_ARENA] = 0.0
        data[:, FEE] = self.mix.fee_by_tier[data[:, TIER].astype(int)]
        self.incoming.append(Members(data, members.run, members.runs))

    def _live_year(self, t: int, year: int, funding: YearFunding) -> None:
        live = ~self.closed
        shock = shock_factors(self.scenario.shocks, year)
        first_year = year == self.scenario.programme.start_year
        surplus_spent = self._take_surplus()
        if first_year:
            joined = left = np.zeros(self.runs, dtype=np.int64)
            arena_draws = per_run_uniforms(self.rngs, self.members.count, live)
        else:
            joined, left, arena_draws = self._update_members(year, live, funding, shock)
        count = self.members.count
        share = np.minimum(
            1.0, self.scenario.members.arena_participation * funding.arena_projects[:, self.index]
        )
        self.members.data[:, IN_ARENA] = arena_draws < share[self.members.run]
        money = self._money(first_year, count, funding, shock)
        reserves = self.reserves + money["total_income"] - money["costs"] - surplus_spent
        self.reserves = np.where(live, reserves, self.reserves)
        self.books = BooksBatch(
            count, money["fee_income"], money["private_income"], money["total_income"]
        )
        activity_this_year, fee_multiplier_this_year = self._activity_seen(), self.fee_multiplier
        cap_years = self.scenario.management.reserve_cap_years
        if cap_years is not None:
            self.surplus_to_spend = np.where(
                live, np.maximum(0.0, self.reserves - cap_years * money["costs"]), 0.0
            )
        deficit = money["costs"] - money["total_income"]
        max_rise = self.scenario.management.max_fee_rise * money["fee_income"]
        status = self._manage(year, live, deficit, money["fee_income"], money["costs"])
        status = self._other_exits(year, live, status, count, money, deficit > max_rise)
        settled = self._liquidate(year, live & self.closed, count)
        money["costs"] = money["costs"] + surplus_spent
        self._record(
            t,
            live,
            **money,
            members=count,
            reserves=self.reserves,
            status=status,
            joined=joined,
            left=left,
            fee_multiplier=fee_multiplier_this_year,
            activity_level=activity_this_year,
            regional_share=np.divide(
                money["regional_base"],
                money["total_income"],
                out=np.zeros(self.runs),
                where=money["total_income"] > 0,
            ),
            arena_projects=funding.arena_projects[:, self.index],
            surplus_spent=surplus_spent,
            settled=settled,
        )

    def _take_surplus(self) -> np.ndarray:
        """Last year's surplus, spent this year (and the activity it adds, for members)."""
        activity_cost = self.params.activity_cost
        surplus_spent, self.surplus_to_spend = self.surplus_to_spend, np.zeros(self.runs)
        self.extra_activity = (
            surplus_spent / activity_cost if activity_cost > 0 else np.zeros(self.runs)
        )
        return surplus_spent

    def _money(
        self, first_year: bool, count: np.ndarray, funding: YearFunding, shock: ShockFactors
    ) -> dict[str, np.ndarray]:
        """The year's income by source, its total, and its costs before surplus spending."""
        params, management = self.params, self.scenario.management
        fee_income = self.members.fee_totals() * self.fee_multiplier
        if not first_year:
            target = np.maximum(
                0.0,
                self.private_income + management.private_per_member * (count - params.members),
            )
            self.private_underlying = private_income_step(
                self.private_underlying, target * self.effort, self.private_lag_years
            )
        private_income = self.private_underlying * shock.private
        other_public = self.other_public * shock.other_public
        regional_base = funding.regional_base[:, self.index]
        arena_income = funding.arena_income[:, self.index]
        costs = (
            params.staff_cost
            + params.activity_cost * self.activity_level
            + params.fixed_cost
            + (1.0 - self.scenario.arena.overhead_share) * arena_income
        )
        return {
            "fee_income": fee_income,
            "private_income": private_income,
            "regional_base": regional_base,
            "arena_income": arena_income,
            "other_public": other_public,
            "total_income": fee_income
            + private_income
            + regional_base
            + arena_income
            + other_public,
            "costs": costs,
        }

    def _liquidate(self, year: int, closing: np.ndarray, count: np.ndarray) -> np.ndarray:
        """Settle the reserves of the runs where the cluster closes this year (to 0, once) and
        send its members off; returns the settled amounts."""
        if not closing.any():
            return np.zeros(self.runs)
        settled = np.where(closing, self.reserves, 0.0)
        for r in np.flatnonzero(closing):
            word = "liquidated" if self.left_as[r] == STATUS_CODES[CLOSED] else "settled"
            self._event(r, year, f"{word} {settled[r]:.6f}")
        self.reserves = np.where(closing, 0.0, self.reserves)
        self.surplus_to_spend = np.where(closing, 0.0, self.surplus_to_spend)
        self._leave(year, closing, count)
        return settled

    def _record(self, t: int, live: np.ndarray, **values: np.ndarray) -> None:
        """Write year ``t`` into the table: the values where the cluster lived the year; for a
        cluster closed before it, the reserves (0), the fee multiplier and ``closed``."""
        fields = self.table.fields
        for name, column in fields.items():
            column[:, t, self.index] = values[name]
        closed = ~live
        if closed.any():
            for column in fields.values():
                column[closed, t, self.index] = 0
            fields["reserves"][closed, t, self.index] = self.reserves[closed]
            fields["fee_multiplier"][closed, t, self.index] = self.fee_multiplier[closed]
            fields["status"][closed, t, self.index] = self.left_as[closed]

    def _leave(self, year: int, leaving: np.ndarray, count: np.ndarray) -> None:
        """The members of the runs where the cluster leaves the programme this year go. On
        closure each transfers with probability ``transfer_share`` (to be placed by the
        office next year, see ``place_transfers``) and the rest leave; none transfer after
        the last year, nor from a cluster that left another way."""
        share = self.scenario.members.transfer_share
        closing = leaving & (self.left_as == STATUS_CODES[CLOSED])
        if share > 0 and year < self.scenario.years[-1] and closing.any():
            uniforms = per_run_uniforms(self.rngs, count, closing)
            in_closing = closing[self.members.run]
            moving_mask = np.zeros(len(self.members), dtype=bool)
            moving_mask[in_closing] = uniforms < share
            moving = self.members.keep(moving_mask)
            moving_count = moving.count
            self.transferring = moving
            self.transfer_draws = per_run_uniforms(self.rngs, moving_count, moving_count > 0)
        self.members = self.members.keep(~leaving[self.members.run])

    def _other_exits(
        self,
        year: int,
        live: np.ndarray,
        status: np.ndarray,
        count: np.ndarray,
        money: dict[str, np.ndarray],
        deficit_beyond_fees: np.ndarray,
    ) -> np.ndarray:
        """The ways out besides closure, for the runs still in the programme after
        ``_manage``: not formed, defunded at the review, absorbed (in that order); returns
        the year's status codes with theirs."""
        staying = live & ~self.closed
        leaving = {}
        params = self.params
        if params.forming_until == year:
            leaving[NOT_FORMED] = staying & (count < params.forming_members)
            staying = staying & ~leaving[NOT_FORMED]
        review = self.scenario.review
        if review is not None and review.year == year:
            business = money["fee_income"] + money["private_income"]
            total = money["total_income"]
            share = np.divide(business, total, out=np.zeros(self.runs), where=total > 0)
            failing = (share < review.min_business_share) | (count < review.min_members)
            leaving[DEFUNDED] = staying & failing
            staying = staying & ~leaving[DEFUNDED]
        probability = self.absorption_probability
        eligible = staying & deficit_beyond_fees & self.at_risk & (probability > 0)
        if eligible.any():
            draws = per_run_uniforms(self.rngs, eligible.astype(np.int64), eligible)
            absorbed = np.zeros(self.runs, dtype=bool)
            absorbed[eligible] = draws < probability[eligible]
            leaving[ABSORBED] = absorbed
        status = status.copy()
        for way, runs in leaving.items():
            for r in np.flatnonzero(runs):
                self._event(r, year, way)
            self.left_as = np.where(runs, STATUS_CODES[way], self.left_as)
            self.closed = self.closed | runs
            status[runs] = STATUS_CODES[way]
        return status

    def _manage(
        self,
        year: int,
        live: np.ndarray,
        deficit: np.ndarray,
        fee_income: np.ndarray,
        costs: np.ndarray,
    ) -> np.ndarray:
        """Management's reaction after the books close (in the runs where the cluster
        lived the year); returns the year's status codes."""
        management = self.scenario.management
        in_deficit = live & (deficit > 0)
        self.fee_rise = np.zeros(self.runs)
        if management.fee_policy:
            self.fee_rise = np.where(
                live, fee_rise_after(deficit, fee_income, management.max_fee_rise), 0.0
            )
            self.fee_multiplier = self.fee_multiplier * (1.0 + self.fee_rise)
            for r in np.flatnonzero(self.fee_rise > 0):
                self._event(r, year, f"fee_rise {self.fee_rise[r]:.3f}")
        if management.private_effort:
            self.effort = np.where(
                in_deficit,
                np.minimum(self.max_effort, self.effort + management.effort_step),
                self.effort,
            )
        low = management.reserve_threshold * costs
        self.at_risk = live & (self.reserves < low)
        cut = (
            self.at_risk & (self.activity_level > management.min_activity)
            if management.activity_cuts
            else np.zeros(self.runs, dtype=bool)
        )
        restore = live & ~cut & (self.reserves > 2 * low)
        self.activity_level = np.where(
            cut,
            np.maximum(management.min_activity, self.activity_level - management.cut_step),
            np.where(
                restore,
                np.minimum(1.0, self.activity_level + management.restore_step),
                self.activity_level,
            ),
        )
        for r in np.flatnonzero(cut):
            self._event(r, year, "activity_cut")
        in_red = live & (self.reserves < 0)
        self.years_in_red = np.where(in_red, self.years_in_red + 1, 0)
        closing = live & (self.years_in_red >= management.closure_years)
        for r in np.flatnonzero(closing):
            self._event(r, year, "closed")
        self.closed = self.closed | closing
        status = np.full(self.runs, STATUS_CODES[ACTIVE])
        status[self.at_risk] = STATUS_CODES[AT_RISK]
        status[in_red] = STATUS_CODES[DISTRESSED]
        status[closing] = STATUS_CODES[CLOSED]  # the last word: closed over distressed over at risk
        return status


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
