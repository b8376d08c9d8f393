"""A study's point shares its base document instead of copying it, checks its base's
parameter sets once, and makes only the set variants its replications use: the same
scenario as before, faster (benchmarks/bench_explore.py)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from conftest import CONFIGS
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios.config.keys import apply_set, flatten, with_set_values
from scenarios.config.scenario import load_config
from simulator.parameter_sets import PER_RUN_KEYS, set_variants, with_values
from simulator.scenario import Absorption, Cluster, MemberBehaviour

BASE = load_config(CONFIGS / "baseline.toml")
LEAVES = sorted(k for k, v in flatten(BASE.document).items() if isinstance(v, int | float))


@settings(max_examples=60, deadline=None)
@given(
    keys=st.lists(st.sampled_from(LEAVES), min_size=1, max_size=6, unique=True),
    value=st.floats(0, 1),
)
def test_set_values_equal_a_deep_copy_with_apply_set_and_leave_the_base(
    keys: list[str], value: float
) -> None:
    before = copy.deepcopy(BASE.document)
    expected = copy.deepcopy(BASE.document)
    values: dict[str, Any] = {key: value for key in keys}
    for key, number in values.items():
        apply_set(expected, key, number)
    assert with_set_values(BASE.document, values) == expected
    assert BASE.document == before


def test_a_new_table_is_made_in_the_copy_only() -> None:
    document = {"a": {"b": 1}, "c": [1, {"d": 2}]}
    changed = with_set_values(document, {"a.x.y": 3, "c.1.d": 5})
    assert changed == {"a": {"b": 1, "x": {"y": 3}}, "c": [1, {"d": 5}]}
    assert document == {"a": {"b": 1}, "c": [1, {"d": 2}]}


def test_variants_are_made_for_the_sets_used_and_equal_the_eager_ones() -> None:
    scenario = BASE.scenario
    sets = scenario.parameter_sets
    assert sets is not None and len(sets.values) > 20
    variants = set_variants(scenario, fixed=["members.churn"])
    assert len(variants) == len(sets.values)
    used = [variants[r % len(variants)] for r in range(10)]
    assert len(variants.made) == 10  # type: ignore[attr-defined]
    for number, variant in enumerate(used):
        row = dict(zip(sets.keys, sets.values[number], strict=True))
        row.pop("members.churn", None)
        assert variant == with_values(scenario, row)
        assert variant.members.churn == scenario.members.churn  # the point's value wins


@pytest.mark.parametrize("model", [Cluster, MemberBehaviour, Absorption])
def test_a_set_value_is_checked_by_its_own_field_alone(model: type) -> None:
    """Points skip re-checking their base's sets; that holds while no validator of a model a
    set may change reads other fields (PER_RUN_KEYS' tables)."""
    assert {key.split(".")[0] for key in PER_RUN_KEYS} == {"absorption", "members", "clusters"}
    decorators = model.__pydantic_decorators__
    assert not decorators.model_validators and not decorators.field_validators
