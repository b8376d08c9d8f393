"""The `rule` funding schedule: hand-computed amounts at the cap, floor, ceiling and bonus edges."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import CONFIGS, baseline_document, invoke, scenario_with

from scenarios.config.scenario import load_config
from scenarios.core.errors import UserError
from simulator.allocation import ProportionalAllocator
from simulator.model import simulate
from simulator.scenario import FundingRule, TableSchedule
from simulator.schedules import Books, base_value, rule_amount, schedule_value

RULE = FundingRule(
    matching_rate_fees=0.5,
    matching_rate_private=0.25,
    floor=0.5,
    ceiling=2.5,
    max_turnover_share=0.35,
    bonus=0.3,
    bonus_min_members=50,
)


@pytest.mark.parametrize(
    ("books", "expected", "edge"),
    [
        (Books(40, 2.0, 1.0, 10.0), 1.0 + 0.25, "matched: 0.5·2 + 0.25·1"),
        (Books(40, 0.4, 0.4, 10.0), 0.5, "floor: matched 0.3 < 0.5"),
        (Books(49, 2.0, 1.0, 10.0), 1.25, "bonus: 49 members, one short"),
        (Books(50, 2.0, 1.0, 10.0), 1.25 + 0.3, "bonus: exactly 50 members"),
        (Books(50, 0.4, 0.4, 10.0), 0.5 + 0.3, "bonus on top of the floor"),
        (Books(60, 5.0, 2.0, 20.0), 2.5, "ceiling: 2.5 + 0.5 + 0.3 = 3.3 capped, bonus included"),
        (Books(60, 2.0, 1.0, 3.0), 0.35 * 3.0, "turnover cap: 1.55 > 35 % of 3.0"),
        (Books(40, 0.4, 0.4, 1.0), 0.35 * 1.0, "turnover cap wins over the floor"),
        (Books(0, 0.0, 0.0, 0.0), 0.0, "no turnover, no money"),
    ],
)
def test_rule_amount_by_hand(books: Books, expected: float, edge: str) -> None:
    assert rule_amount(RULE, books) == pytest.approx(expected), edge


def test_no_ceiling_and_where_the_rule_starts() -> None:
    open_ended = RULE.model_copy(update={"ceiling": None, "max_turnover_share": 1.0})
    assert rule_amount(open_ended, Books(60, 10.0, 4.0, 30.0)) == pytest.approx(5 + 1 + 0.3)
    table = TableSchedule(kind="table", values={2017: 2.0, 2018: 1.0}, after="rule", rule=RULE)
    books = Books(40, 2.0, 1.0, 10.0)
    assert base_value(table, 2018, 2017, books) == 1.0  # the table's year
    assert base_value(table, 2019, 2017, books) == pytest.approx(1.25)
    assert np.isnan(schedule_value(table, 2019, 2017))  # the plan cannot know the books
    with pytest.raises(ValueError, match="books"):
        base_value(table, 2019, 2017, None)


# --- through the model: one cluster, nothing random ----------------------------------


def _one_cluster(**rule: float) -> object:
    """100 members paying 10 kSEK (fees 1.0 MSEK), private 1.0, other public 0.5, base 2.0
    in 2017, then the rule; no churn, joining, fee rises, effort or arena money."""
    doc = baseline_document()
    cluster = doc["clusters"]["packbridge"]
    cluster.update(
        members=100,
        fee_ksek={"small": 10, "medium": 10, "large": 10},
        private_income=1.0,
        other_public=0.5,
    )
    doc["clusters"] = {"packbridge": cluster}
    doc["projects"] = []
    doc["allocator"]["area_min_share"] = {}
    settings = {
        "matching_rate_fees": 0.5,
        "matching_rate_private": 0.25,
        "floor": 0.5,
        "ceiling": 2.5,
        "max_turnover_share": 0.35,
        "bonus": 0.3,
        "bonus_min_members": 50,
        **rule,
    }
    scenario = scenario_with(
        {
            "members.feedback": False,
            "members.joining": False,
            "members.churn": 0.0,
            "members.first_year_churn": 0.0,
            "management.fee_policy": False,
            "management.private_effort": False,
            "management.activity_cuts": False,
            "management.closure_years": 1000,
            "allocator.method": "proportional",
            "arena.budget": {"kind": "hold", "value": 0.0},
            "base_funding.default": {
                "kind": "table",
                "values": {"2017": 2.0},
                "after": "rule",
                "rule": settings,
            },
            "programme.horizon": 2019,
        },
        doc,
    )
    result = simulate(scenario, np.random.default_rng(0), ProportionalAllocator([]))
    return result.yearly.set_index("year").regional_base.tolist()


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        # 2017 books: fees 1.0, private 1.0, total 1 + 1 + 2 + 0.5 = 4.5, 100 members
        # 2018: 0.5·1 + 0.25·1 + 0.3 = 1.05 (35 % of 4.5 = 1.575 does not bind);
        # 2018 total 1 + 1 + 1.05 + 0.5 = 3.55, so 2019 again 1.05 (cap 1.2425)
        ({}, [2.0, 1.05, 1.05]),
        # cap 20 %: 0.9 of 4.5; then 20 % of (1 + 1 + 0.9 + 0.5) = 0.68
        ({"max_turnover_share": 0.2}, [2.0, 0.9, 0.68]),
        # floor 1.2 beats the matched 0.75: 1.2 + 0.3 = 1.5; 2019 cap 35 % of 4.0 = 1.4
        ({"floor": 1.2}, [2.0, 1.5, 1.4]),
        ({"ceiling": 0.9}, [2.0, 0.9, 0.9]),
        ({"bonus_min_members": 100}, [2.0, 1.05, 1.05]),  # exactly at the target
        ({"bonus_min_members": 101}, [2.0, 0.75, 0.75]),  # one short
    ],
)
def test_rule_in_the_model_by_hand(rule: dict, expected: list[float]) -> None:
    assert _one_cluster(**rule) == pytest.approx(expected)


# --- config -------------------------------------------------------------------------------


def test_shipped_rules_config() -> None:
    loaded = load_config(CONFIGS / "rules_after_2021.toml")
    schedule = loaded.scenario.base_funding.default
    baseline = load_config(CONFIGS / "baseline.toml").scenario.base_funding.default
    assert isinstance(schedule, TableSchedule) and schedule.after == "rule"
    assert schedule.values == baseline.values  # 2017–2021 as planned
    assert (schedule.rule.floor, schedule.rule.ceiling) == (0.5, 2.5)
    assert schedule.rule.max_turnover_share == 0.35
    for key in ("floor", "ceiling", "max_turnover_share"):
        assert loaded.provenance[f"base_funding.default.rule.{key}"].startswith("sourced:")


@pytest.mark.parametrize("field", sorted(FundingRule.model_fields))
def test_every_rule_parameter_can_be_set(field: str) -> None:
    value = {"bonus_min_members": 7, "ceiling": 2.0}.get(field, 0.3)
    loaded = load_config(
        CONFIGS / "rules_after_2021.toml", [f"base_funding.default.rule.{field}={value}"]
    )
    assert getattr(loaded.scenario.base_funding.default.rule, field) == value


def test_a_rule_on_its_own_per_cluster() -> None:
    loaded = load_config(
        CONFIGS / "uncalibrated.toml",  # no base override for tourism to merge with
        [
            'base_funding.overrides.tourism.kind="rule"',
            "base_funding.overrides.tourism.start=2.0",
            "base_funding.overrides.tourism.floor=0.4",
        ],
    )
    schedule = loaded.scenario.base_schedule("tourism")
    assert schedule_value(schedule, 2017, 2017) == 2.0
    assert base_value(schedule, 2018, 2017, Books(10, 0.1, 0.1, 3.0)) == 0.4


@pytest.mark.parametrize(
    ("sets", "needle"),
    [
        (["base_funding.default.after=rule"], 'after = "rule" needs a [rule] table'),
        (["base_funding.default.rule.floor=0.5"], 'set after = "rule"'),
        (
            [
                "base_funding.default.after=rule",
                "base_funding.default.rule.floor=3",
                "base_funding.default.rule.ceiling=2",
            ],
            "floor 3.0 is above the ceiling 2.0",
        ),
        (['arena.budget={kind = "rule", start = 1.0}'], "use it for base funding"),
    ],
)
def test_bad_rules_are_refused(sets: list[str], needle: str) -> None:
    with pytest.raises(UserError, match=needle.replace("[", r"\[").replace("]", r"\]")):
        load_config(CONFIGS / "baseline.toml", sets)
    result = invoke("validate", str(CONFIGS / "baseline.toml"), *[f"--set={s}" for s in sets])
    assert result.exit_code == 2 and needle in result.stderr
