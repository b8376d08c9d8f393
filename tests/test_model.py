"""The SimPy model: analytic expectations, conservation of money, closure, determinism."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest
from conftest import baseline_document, scenario_with
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.allocation import ProportionalAllocator
from simulator.model import default_allocator, simulate, simulate_batch
from simulator.records import CLOSED, LEFT_STATUSES
from simulator.scenario import CLUSTER_SEPARATOR, Scenario
from simulator.schedules import schedule_value

NO_FEEDBACK = {
    "members.feedback": False,
    "members.joining": False,
    "management.fee_policy": False,
    "management.private_effort": False,
    "management.activity_cuts": False,
    "management.closure_years": 1000,
    "allocator.method": "proportional",
}


def _run(scenario: Scenario, seed: int):
    return simulate(scenario, np.random.default_rng(seed), ProportionalAllocator(scenario.projects))


def _runs(scenario: Scenario, seeds, allocator=None) -> list:
    """The runs of one batch (one SimPy simulation), one per seed."""
    rngs = [np.random.default_rng(seed) for seed in seeds]
    batch = simulate_batch(scenario, rngs, allocator or ProportionalAllocator(scenario.projects))
    return [batch.run(r) for r in range(len(rngs))]


def test_members_decay_as_n0_times_survival_with_constant_churn() -> None:
    p, runs = 0.15, 300
    scenario = scenario_with(
        {
            **NO_FEEDBACK,
            "members.churn": p,
            "members.first_year_churn": p,
            "programme.horizon": 2027,
        }
    )
    n0 = sum(c.members for c in scenario.clusters.values())
    totals = np.zeros((runs, len(scenario.years)))
    for run, result in enumerate(_runs(scenario, range(runs))):  # one batch of 300 runs
        totals[run] = result.yearly.groupby("year")["members"].sum().to_numpy()

    def z_score(t: int) -> float:
        survival = (1 - p) ** t
        standard_error = math.sqrt(n0 * survival * (1 - survival) / runs)
        return (totals[:, t].mean() - n0 * survival) / standard_error

    horizon = len(scenario.years) - 1
    assert abs(z_score(1)) <= 3 and abs(z_score(horizon)) <= 3, (z_score(1), z_score(horizon))
    # every year too, at a Bonferroni-adjusted bound for the ten correlated checks
    assert all(abs(z_score(t)) <= 3.5 for t in range(1, horizon + 1))
    assert totals[:, 0].tolist() == [n0] * runs  # no churn before the first year


def test_no_churn_no_joiners_keeps_members() -> None:
    scenario = scenario_with({**NO_FEEDBACK, "members.churn": 0.0, "members.first_year_churn": 0.0})
    frame = _run(scenario, 1).yearly
    counts = frame.pivot(index="year", columns="cluster", values="members")
    for cid, cluster in scenario.clusters.items():
        assert (counts[cid] == cluster.members).all()


def _liquidations(events) -> dict[str, float]:
    return {
        cid: float(what.split()[1]) for _, cid, what in events if what.startswith("liquidated ")
    }


def _settlements(events) -> dict[str, float]:
    """What each cluster that left the programme settled (closure or any other way out)."""
    return {
        cid: float(what.split()[1])
        for _, cid, what in events
        if what.startswith(("liquidated ", "settled "))
    }


def _check_books(frame, events=()) -> None:
    five = (
        frame.fee_income
        + frame.private_income
        + frame.regional_base
        + frame.arena_income
        + frame.other_public
    )
    assert (frame.total_income == five).all(), "total_income is exactly the five sources"
    for cid, one in frame.groupby("cluster"):
        one = one.sort_values("year")
        previous = one.reserves.shift(1)
        step = one.total_income - one.costs - one.settled
        np.testing.assert_allclose(
            one.reserves.iloc[1:], (previous + step).iloc[1:], rtol=0, atol=1e-9, err_msg=cid
        )
    # what was settled is what the events say, once per closed cluster, and nothing stays
    settled = frame[frame.settled != 0].groupby("cluster").settled.sum().to_dict()
    left = frame[frame.status.isin(LEFT_STATUSES)]
    assert _liquidations(events).keys() == set(frame[frame.status == CLOSED].cluster)
    settlements = _settlements(events)
    assert settlements.keys() == set(left.cluster)
    for cid, amount in settlements.items():
        assert settled.get(cid, 0.0) == pytest.approx(amount, abs=1e-6), cid
    assert (left.reserves == 0).all(), "a cluster that left settled its reserves"
    transfers = [what.split() for _, _, what in events if what.startswith("transfer_")]
    out = sum(int(t[1]) for t in transfers if t[0] == "transfer_out")
    into = sum(int(t[1]) for t in transfers if t[0] == "transfer_in")
    assert out == into, "members transferred out of closing clusters join open ones"


def _check_reserve_cap(frame, cap_years: float) -> None:
    """R_t <= cap * K_{t-1} + max(0, I_t - K_t), K the costs without surplus spending."""
    for cid, one in frame[frame.status != CLOSED].groupby("cluster"):
        one = one.sort_values("year")
        own_costs = one.costs - one.surplus_spent
        surplus = (one.total_income - own_costs).clip(lower=0)
        bound = cap_years * own_costs.shift(1) + surplus
        assert (one.reserves.iloc[1:] <= bound.iloc[1:] + 1e-9).all(), cid


scenario_changes = st.fixed_dictionaries(
    {
        "members.churn": st.floats(0.0, 0.5),
        "members.first_year_churn": st.floats(0.0, 0.6),
        "members.join_rate": st.floats(0.0, 0.3),
        "management.max_fee_rise": st.floats(0.0, 0.3),
        "management.closure_years": st.integers(1, 3),
        "arena.overhead_share": st.floats(0.0, 1.0),
        "clusters.packbridge.staff_cost": st.floats(0.0, 20.0),
        "clusters.tourism.opening_reserves": st.floats(0.0, 3.0),
        "base_funding.default": st.builds(
            lambda start, floor_share, year: {
                "kind": "taper",
                "start": start,
                "floor": start * floor_share,
                "floor_year": year,
            },
            st.floats(0.0, 3.0),
            st.floats(0.0, 1.0),
            st.integers(2018, 2022),
        ),
        "arena.budget": st.builds(
            lambda value: {"kind": "hold", "value": value}, st.floats(0.0, 15.0)
        ),
        "shocks": st.lists(
            st.builds(
                lambda start, length, private, joiners: {
                    "name": "shock",
                    "from_year": start,
                    "to_year": start + length,
                    "private_multiplier": private,
                    "joiner_multiplier": joiners,
                },
                st.integers(2017, 2022),
                st.integers(0, 2),
                st.floats(0.0, 1.5),
                st.floats(0.0, 1.5),
            ),
            max_size=2,
        ),
        "allocator.method": st.sampled_from(["proportional", "lp"]),
        "management.reserve_cap_years": st.one_of(st.none(), st.floats(0.0, 2.0)),
        "members.transfer_share": st.floats(0.0, 1.0),
        "absorption.probability": st.floats(0.0, 1.0),
        "review": st.one_of(
            st.none(),
            st.builds(
                lambda year, share, members: {
                    "year": year,
                    "min_business_share": share,
                    "min_members": members,
                },
                st.integers(2017, 2023),
                st.floats(0.0, 1.0),
                st.integers(0, 300),
            ),
        ),
        "fee_reforms": st.lists(
            st.builds(
                lambda cluster, year, loss, fees: {
                    "cluster": cluster,
                    "year": year,
                    "member_loss": loss,
                    "fee_multiplier": fees,
                },
                st.sampled_from(["media_evolution", "medicon_valley_alliance", "tourism"]),
                st.integers(2018, 2024),
                st.floats(0.0, 1.0),
                st.floats(0.5, 2.0),
            ),
            max_size=2,
        ),
        "clusters.tourism.forming_until": st.one_of(st.none(), st.integers(2017, 2024)),
        "clusters.tourism.forming_members": st.integers(0, 100),
    }
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=scenario_changes, seed=st.integers(0, 2**32 - 1))
def test_money_is_conserved_in_any_valid_scenario(changes: dict, seed: int) -> None:
    scenario = scenario_with({**changes, "programme.horizon": 2024})
    # a batch of three runs, each checked on its own
    results = _runs(scenario, [seed, seed + 1, seed + 2], default_allocator(scenario))
    for result in results:
        _check_run(scenario, result)


def _check_run(scenario: Scenario, result) -> None:
    frame = result.yearly
    assert len(frame) == len(scenario.years) * len(scenario.clusters)
    _check_books(frame, result.events)
    cap = scenario.management.reserve_cap_years
    if cap is not None:
        _check_reserve_cap(frame, cap)
    paid = frame.groupby("year")["arena_income"].sum()
    allocated = (
        result.allocation.groupby("year")["funded"].sum().reindex(paid.index, fill_value=0.0)
    ).astype(float)
    np.testing.assert_allclose(paid, allocated, atol=1e-9)  # arena money reaches clusters whole
    closed = frame[frame.status == CLOSED]
    assert (closed.groupby("cluster").year.min() <= closed.groupby("cluster").year.max()).all()


def _closure_scenario(reserves: float, deficit: float, closure_years: int) -> Scenario:
    doc = baseline_document()
    baseline = Scenario.model_validate(doc)
    start = baseline.programme.start_year
    # hold the base at the baseline's first-year level, at which iuc_syd's books balance
    base = schedule_value(baseline.base_funding.default, start, start)
    keep = {"packbridge", "iuc_syd"}
    doc["clusters"] = {k: v for k, v in doc["clusters"].items() if k in keep}
    doc["projects"] = []
    doc["allocator"]["area_min_share"] = {}
    a = doc["clusters"]["packbridge"]
    a.update(
        members=0,
        opening_reserves=reserves,
        private_income=0.0,
        other_public=0.0,
        staff_cost=deficit + base,
        activity_cost=0.0,
        fixed_cost=0.0,
    )
    return scenario_with(
        {
            **NO_FEEDBACK,
            "members.churn": 0.0,
            "members.first_year_churn": 0.0,
            "management.closure_years": closure_years,
            "base_funding.default": {"kind": "hold", "value": base},
            "arena.budget": {"kind": "hold", "value": 0.0},
            "programme.horizon": 2024,
        },
        doc,
    )


@pytest.mark.parametrize("closure_years", [1, 2, 3])
def test_cluster_closes_when_the_rule_says(closure_years: int) -> None:
    # reserves 1.0, a 0.6 deficit a year: 0.4 (2017), -0.2 (2018), -0.8 (2019), -1.4 (2020)
    scenario = _closure_scenario(reserves=1.0, deficit=0.6, closure_years=closure_years)
    for result in _runs(scenario, range(4)):  # in every run of a batch
        _check_closure(result, closure_years)


def _check_closure(result, closure_years: int) -> None:
    closures = [(year, cid) for year, cid, what in result.events if what == "closed"]
    expected_year = 2018 + closure_years - 1
    assert closures == [(expected_year, "packbridge")]
    frame = result.yearly.set_index(["cluster", "year"])
    reserves_at_close = 1.0 - 0.6 * (expected_year - 2017 + 1)
    # liquidated in the year it closes: the negative balance is written off, once
    assert frame.loc[("packbridge", expected_year), "settled"] == pytest.approx(reserves_at_close)
    assert _liquidations(result.events) == {"packbridge": pytest.approx(reserves_at_close)}
    assert frame.loc[("packbridge", expected_year), "reserves"] == 0.0
    later = frame.loc["packbridge"].loc[expected_year + 1 :]
    assert (later.status == CLOSED).all()
    assert (later.members == 0).all() and (later.total_income == 0).all()
    assert (later.reserves == 0).all() and (later.settled == 0).all()
    assert not any(cid == "iuc_syd" and what == "closed" for _, cid, what in result.events)


def test_closed_cluster_gets_no_arena_money() -> None:
    scenario = _closure_scenario(reserves=0.0, deficit=1.0, closure_years=1)
    doc = scenario.model_dump(mode="json")
    doc["projects"] = [
        {
            "id": "J",
            "title": "joint",
            "area": "smart_materials",
            "clusters": ["packbridge", "iuc_syd"],
            "cost_per_year": 1.0,
            "duration": 5,
            "earliest_start": 2017,
            "cofunding_per_year": 0.5,
            "impact": 1.0,
        }
    ]
    doc["arena"]["budget"] = {"kind": "hold", "value": 2.0}
    scenario = Scenario.model_validate(doc)
    result = _run(scenario, 0)
    frame = result.yearly.set_index(["cluster", "year"])
    assert frame.loc[("packbridge", 2017), "arena_income"] == pytest.approx(0.5)
    assert frame.loc["packbridge"].loc[2018:, "arena_income"].eq(0).all()
    assert result.allocation.year.max() == 2017  # the project loses its partner and stops


def test_baseline_is_plausible() -> None:
    scenario = scenario_with({"programme.horizon": 2021})
    frame = simulate(scenario, np.random.default_rng(7)).yearly.set_index(["year", "cluster"])
    for cid, cluster in scenario.clusters.items():
        assert frame.loc[(2017, cid), "members"] == cluster.members
        assert frame.loc[(2021, cid), "regional_base"] == 1.0
    assert frame.loc[2019, "arena_income"].sum() == pytest.approx(3.0)
    assert frame.loc[2021, "arena_income"].sum() == pytest.approx(7.0)
    assert frame.loc[2018, "arena_income"].sum() == 0.0


def test_same_seed_same_run_other_seed_other_members() -> None:
    scenario = scenario_with({"programme.horizon": 2022})
    a = simulate(scenario, np.random.default_rng(3)).yearly
    b = simulate(scenario, np.random.default_rng(3)).yearly
    c = simulate(scenario, np.random.default_rng(4)).yearly
    assert a.equals(b)
    assert not a.members.equals(c.members)


def test_starting_members_follow_the_mix_exactly() -> None:
    from simulator.members import FEE, TIER, MemberMix, apportion, starting_members

    assert apportion(10, np.array([0.55, 0.8, 1.0])).tolist() == [6, 2, 2]  # 5.5, 2.5, 2.0
    assert apportion(7, np.array([0.5, 0.8, 1.0])).tolist() == [4, 2, 1]  # 3.5, 2.1, 1.4
    scenario = scenario_with({})
    cluster = scenario.clusters["mobile_heights"]  # 100 members: 50 small, 30 medium, 20 large
    mix = MemberMix.of(cluster)
    for seed in (1, 2):
        members = starting_members(cluster, mix, 2017, [np.random.default_rng(seed)])
        assert np.bincount(members.data[:, TIER].astype(int)).tolist() == [50, 30, 20]
        assert members.fee_totals()[0] == pytest.approx((50 * 5 + 30 * 50 + 20 * 200) / 1000)
        assert members.data[:, FEE].max() == pytest.approx(0.2)


def test_scorecard_counts_match_the_yearly_rows() -> None:
    from simulator.scorecard import TARGETS, score_runs, scorecard_targets, scored_years

    scenario = scenario_with({"programme.horizon": 2023})
    result = simulate(scenario, np.random.default_rng(11))
    met, value = score_runs(scenario, result.table, [result.allocation_rows])
    met, value = met[0], value[0]
    names = [name for name, _ in scorecard_targets(scenario)]
    years = scored_years(scenario)
    assert met.shape == value.shape == (len(years), len(names)) and years == [2021, 2022, 2023]
    frame = result.yearly
    for i, year in enumerate(years):
        rows = frame[frame.year == year].set_index("cluster")
        is_open = rows.status != CLOSED
        enough = (rows.members >= scenario.scorecard.min_members) & is_open
        assert value[i, names.index("members_min")] == enough.sum()
        assert met[i, names.index("members_min")] == enough.all()
        assert value[i, names.index("no_closures")] == (~is_open).sum()
        for cid in scenario.clusters:
            assert met[i, names.index(f"cluster_members_min:{cid}")] == enough[cid]
        funded = result.allocation[
            (result.allocation.year == year) & (result.allocation.fraction >= 0.25 - 1e-9)
        ]
        pairs = {
            tuple(sorted(pair))
            for clusters in funded.clusters
            for pair in combinations(clusters.split(CLUSTER_SEPARATOR), 2)
        }
        assert value[i, names.index("collaboration_links")] == len(pairs)
    assert len(TARGETS) == 6


def test_members_of_a_closing_cluster_join_an_open_one_the_next_year() -> None:
    scenario = _closure_scenario(reserves=0.0, deficit=5.0, closure_years=1)  # fees < 5 MSEK
    doc = scenario.model_dump(mode="json")
    doc["clusters"]["packbridge"]["members"] = 40
    share = 0.5
    doc["members"]["transfer_share"] = share
    result = _run(Scenario.model_validate(doc), 5)
    frame = result.yearly.set_index(["cluster", "year"])
    moved = [what for year, cid, what in result.events if what.startswith("transfer_")]
    out = int(moved[0].split()[1])
    assert 0 < out < 40
    assert moved == [f"transfer_out {out}", f"transfer_in {out} from packbridge"]
    assert [(y, c) for y, c, w in result.events if w.startswith("transfer_")] == [
        (2018, "packbridge"),
        (2018, "iuc_syd"),
    ]
    iuc = scenario.clusters["iuc_syd"].members  # no churn, no joiners: only the transfers
    assert frame.loc[("iuc_syd", 2018), "members"] == iuc + out
    assert frame.loc[("iuc_syd", 2018), "joined"] == out


def test_surplus_above_the_cap_is_spent_on_activities_next_year() -> None:
    # iuc_syd alone with 3 MSEK a year more income than costs and 1 year of costs capped
    scenario = _closure_scenario(reserves=0.0, deficit=0.0, closure_years=1)
    doc = scenario.model_dump(mode="json")
    del doc["clusters"]["packbridge"]
    iuc = doc["clusters"]["iuc_syd"]
    iuc.update(opening_reserves=10.0, other_public=iuc["other_public"] + 3.0)
    doc["management"]["reserve_cap_years"] = 1.0
    doc["management"]["max_activity"] = 1.5  # the baseline keeps 1.0; the mechanism needs room
    result = _run(Scenario.model_validate(doc), 0)
    one = result.yearly.set_index("year")
    own = one.costs - one.surplus_spent
    # the year after the first, the surplus above one year's costs is spent, whole
    assert one.surplus_spent[2018] == pytest.approx(one.reserves[2017] - own[2017])
    assert one.surplus_spent[2018] > 0 and one.activity_level[2018] > 1.0
    assert one.activity_level.max() <= doc["management"]["max_activity"]
    _check_books(one.reset_index(), result.events)
    _check_reserve_cap(one.reset_index(), 1.0)
    # from the second year on: bounded by the cap and a year's surplus (opening reserves aside)
    assert one.reserves.loc[2018:].max() <= own.max() + 3.0 + 1e-9
