"""Ways out of the programme besides closure, fee reforms, per-cluster rates and per-run
parameter sets: each by a hand case."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import baseline_document, scenario_with

from simulator.allocation import ProportionalAllocator
from simulator.model import simulate_batch
from simulator.parameter_sets import with_values
from simulator.records import ABSORBED, DEFUNDED, NOT_FORMED
from simulator.scenario import Scenario, scenario_problems

QUIET = {
    "members.feedback": False,
    "members.joining": False,
    "members.churn": 0.0,
    "members.first_year_churn": 0.0,
    "management.fee_policy": False,
    "management.private_effort": False,
    "management.activity_cuts": False,
    "management.closure_years": 1000,
    "allocator.method": "proportional",
    "base_funding.default": {"kind": "hold", "value": 2.0},  # iuc_syd's books balance
    "arena.budget": {"kind": "hold", "value": 0.0},
    "programme.horizon": 2022,
}
"""Members never change and no cluster closes, unless a test says otherwise."""


def _two_clusters(changes: dict) -> Scenario:
    doc = baseline_document()
    doc["clusters"] = {k: v for k, v in doc["clusters"].items() if k in {"packbridge", "iuc_syd"}}
    doc["projects"] = []
    doc["allocator"]["area_min_share"] = {}
    return scenario_with({**QUIET, **changes}, doc)


def _batch(scenario: Scenario, runs: int, first_seed: int = 0):
    rngs = [np.random.default_rng(seed) for seed in range(first_seed, first_seed + runs)]
    batch = simulate_batch(scenario, rngs, ProportionalAllocator(scenario.projects))
    return [batch.run(r) for r in range(runs)]


def _rows(result, cluster: str):
    return result.yearly[result.yearly.cluster == cluster].set_index("year")


def test_review_defunds_a_cluster_below_its_condition_and_keeps_one_above() -> None:
    scenario = _two_clusters(
        {
            "clusters.packbridge.members": 40,
            "clusters.iuc_syd.members": 60,
            "review": {"year": 2019, "min_members": 50},
        }
    )
    for result in _batch(scenario, 3):
        low, high = _rows(result, "packbridge"), _rows(result, "iuc_syd")
        assert low.loc[2019, "status"] == DEFUNDED
        assert low.loc[2019, "regional_base"] == 2.0  # paid in the review year
        assert (low.loc[2020:, "regional_base"] == 0).all()  # and never after
        assert (low.loc[2020:, "status"] == DEFUNDED).all()
        assert low.loc[2019, "settled"] == low.loc[2018, "reserves"] + (
            low.loc[2019, "total_income"] - low.loc[2019, "costs"]
        )
        assert (high.loc[2020:, "regional_base"] == 2.0).all()
        assert DEFUNDED not in set(high.status)
        assert (2019, "packbridge", DEFUNDED) in result.events


def test_review_on_business_share_uses_the_review_years_books() -> None:
    scenario = _two_clusters({"review": {"year": 2018, "min_business_share": 0.5}})
    result = _batch(scenario, 1)[0]
    for cluster in ("packbridge", "iuc_syd"):
        rows = _rows(result, cluster)
        share = (rows.loc[2018, "fee_income"] + rows.loc[2018, "private_income"]) / rows.loc[
            2018, "total_income"
        ]
        defunded = rows.loc[2018, "status"] == DEFUNDED
        assert defunded == (share < 0.5), cluster


def test_absorption_stops_programme_money_and_keeps_the_members_with_the_host() -> None:
    # packbridge has no members, so no fees: any deficit is beyond what a fee rise brings in
    scenario = _two_clusters(
        {
            "clusters.packbridge.members": 0,
            "clusters.packbridge.staff_cost": 9.0,
            "absorption.probability": 1.0,
            "members.transfer_share": 1.0,
        }
    )
    for result in _batch(scenario, 3):
        rows = _rows(result, "packbridge")
        assert rows.loc[2017, "status"] == ABSORBED
        assert (rows.loc[2018:, "status"] == ABSORBED).all()
        assert (rows.loc[2018:, ["regional_base", "arena_income", "total_income"]] == 0).all().all()
        assert rows.loc[2017, "reserves"] == 0.0 and rows.loc[2017, "settled"] != 0.0
        # the members stay with the host: none are transferred to the open cluster
        assert not [what for _, _, what in result.events if what.startswith("transfer_")]
        assert (_rows(result, "iuc_syd").status != ABSORBED).all()


def test_absorption_probability_is_the_share_of_runs_absorbed_in_the_first_deficit_year() -> None:
    p, runs = 0.3, 400
    scenario = _two_clusters(
        {
            "clusters.packbridge.members": 0,
            "clusters.packbridge.staff_cost": 9.0,
            "absorption.probability": p,
            "programme.horizon": 2018,
        }
    )
    absorbed = sum(
        _rows(r, "packbridge").loc[2017, "status"] == ABSORBED for r in _batch(scenario, runs)
    )
    z = (absorbed / runs - p) / math.sqrt(p * (1 - p) / runs)
    assert abs(z) < 4


def test_a_cluster_whose_fees_cover_its_deficit_is_never_absorbed() -> None:
    scenario = _two_clusters({"absorption.probability": 1.0, "management.max_fee_rise": 1e6})
    for result in _batch(scenario, 3):
        assert ABSORBED not in set(result.yearly.status)


@pytest.mark.parametrize("joiners, formed", [(0.0, False), (30.0, True)])
def test_a_start_up_without_joiners_does_not_form(joiners: float, formed: bool) -> None:
    scenario = _two_clusters(
        {
            "members.joining": True,
            "members.join_rate": 0.0,
            "clusters.packbridge.members": 0,
            "clusters.packbridge.startup_joiners": joiners,
            "clusters.packbridge.forming_until": 2019,
            "clusters.packbridge.forming_members": 20,
        }
    )
    for result in _batch(scenario, 3):
        rows = _rows(result, "packbridge")
        if formed:  # 2 years of Poisson(30) joiners: far above 20
            assert NOT_FORMED not in set(rows.status)
            assert rows.loc[2019, "members"] >= 20
        else:
            assert rows.loc[2019, "status"] == NOT_FORMED
            assert (rows.loc[2020:, "status"] == NOT_FORMED).all()
            assert (rows.loc[2020:, "total_income"] == 0).all()


def test_a_scheduled_fee_reform_loses_its_share_of_members_and_sets_fees() -> None:
    loss, runs, n0 = 0.2, 200, 500
    scenario = _two_clusters(
        {
            "clusters.packbridge.members": n0,
            "fee_reforms": [
                {
                    "cluster": "packbridge",
                    "year": 2018,
                    "member_loss": loss,
                    "fee_multiplier": 1.5,
                }
            ],
        }
    )
    results = _batch(scenario, runs)
    after = np.array([_rows(r, "packbridge").loc[2018, "members"] for r in results])
    z = (after.mean() - n0 * (1 - loss)) / math.sqrt(n0 * loss * (1 - loss) / runs)
    assert abs(z) < 4
    for result in results[:5]:
        rows = _rows(result, "packbridge")
        assert rows.loc[2017, "fee_multiplier"] == 1.0
        assert (rows.loc[2018:, "fee_multiplier"] == 1.5).all()
        assert rows.loc[2018, "left"] == n0 - rows.loc[2018, "members"]
        assert (rows.loc[2019:, "members"] == rows.loc[2018, "members"]).all()  # no churn
        assert (_rows(result, "iuc_syd").members == _rows(result, "iuc_syd").members.iloc[0]).all()


def test_a_random_fee_reform_happens_once_with_its_yearly_probability() -> None:
    p, runs = 0.25, 400
    scenario = _two_clusters(
        {
            "fee_reforms": [{"cluster": "packbridge", "yearly_probability": p, "member_loss": 1.0}],
        }
    )
    results = _batch(scenario, runs)
    # the reform takes every member: the year the members reach 0 is the reform year
    emptied_by = {
        year: np.mean([_rows(r, "packbridge").loc[year, "members"] == 0 for r in results])
        for year in (2018, 2019, 2020)
    }
    for t, year in enumerate((2018, 2019, 2020), start=1):
        expected = 1 - (1 - p) ** t
        z = (emptied_by[year] - expected) / math.sqrt(expected * (1 - expected) / runs)
        assert abs(z) < 4, year
    reforms = [sum(what.startswith("fee_reform") for _, _, what in r.events) for r in results]
    assert max(reforms) == 1


def test_a_clusters_own_churn_overrides_the_programme_rate() -> None:
    p, runs, n0 = 0.2, 300, 200
    scenario = _two_clusters(
        {
            "clusters.packbridge.members": n0,
            "clusters.iuc_syd.members": n0,
            "clusters.packbridge.churn": p,
            "programme.horizon": 2020,
        }
    )
    results = _batch(scenario, runs)
    for t, year in enumerate((2018, 2019, 2020), start=1):
        members = np.array([_rows(r, "packbridge").loc[year, "members"] for r in results])
        survival = (1 - p) ** t
        z = (members.mean() - n0 * survival) / math.sqrt(n0 * survival * (1 - survival) / runs)
        assert abs(z) < 4, year
        assert all(_rows(r, "iuc_syd").loc[year, "members"] == n0 for r in results)


def test_a_batch_of_run_scenarios_gives_each_run_what_it_gives_alone() -> None:
    base = scenario_with({"programme.horizon": 2021})
    variants = [
        scenario_with(
            {
                "programme.horizon": 2021,
                "members.churn": churn,
                "clusters.packbridge.private_income": income,
            }
        )
        for churn, income in [(0.08, 1.0), (0.15, 3.0), (0.12, 2.0)]
    ]
    rngs = [np.random.default_rng(seed) for seed in (5, 6, 7)]
    together = simulate_batch(base, rngs, run_scenarios=variants)
    for r, variant in enumerate(variants):
        alone = simulate_batch(variant, [np.random.default_rng(5 + r)])
        assert together.run(r).yearly.equals(alone.run(0).yearly)
        assert together.run(r).events == alone.run(0).events
    assert not together.run(0).yearly.equals(together.run(1).yearly)


@pytest.mark.parametrize(
    "change, key",
    [
        (
            {"fee_reforms": [{"cluster": "nope", "year": 2018, "member_loss": 0.1}]},
            "fee_reforms.0.cluster",
        ),
        ({"fee_reforms": [{"cluster": "packbridge", "member_loss": 0.1}]}, "fee_reforms.0"),
        (
            {
                "fee_reforms": [
                    {
                        "cluster": "packbridge",
                        "year": 2018,
                        "yearly_probability": 0.1,
                        "member_loss": 0.1,
                    }
                ]
            },
            "fee_reforms.0",
        ),
        (
            {"fee_reforms": [{"cluster": "packbridge", "year": 2017, "member_loss": 0.1}]},
            "fee_reforms.0.year",
        ),
        ({"review": {"year": 2022}}, "review.year"),
        ({"clusters.packbridge.forming_until": 2040}, "clusters.packbridge.forming_until"),
    ],
)
def test_exit_settings_that_cannot_work_are_named(change: dict, key: str) -> None:
    problems = scenario_problems(_two_clusters(change))
    assert [p.key for p in problems] == [key]


def test_absorption_probability_can_differ_by_run() -> None:
    scenario = _two_clusters(
        {
            "clusters.packbridge.members": 0,
            "clusters.packbridge.staff_cost": 9.0,
            "absorption.probability": 0.0,
        }
    )
    never, always = (with_values(scenario, {"absorption.probability": p}) for p in (0.0, 1.0))
    rngs = [np.random.default_rng(seed) for seed in range(4)]
    batch = simulate_batch(scenario, rngs, run_scenarios=[never, always, never, always])
    for r in range(4):
        absorbed = ABSORBED in set(_rows(batch.run(r), "packbridge").status)
        assert absorbed == (r % 2 == 1), r
